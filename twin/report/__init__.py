"""Reports: what people read, made only from the summary and the result tables."""
