"""The scenario format as pydantic models: the one place where input is checked and defaults live.

Keys and meanings follow ../shared/spec/scenario.md (version 1). Extensions are marked
"(extension)" in their descriptions and documented in docs/scenario-format.md.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from twin.scenario.distributions import _DURATION_SCHEMA, Dist, Distribution
from twin.units import parse_duration

MAX_SERVERS = 100_000
MAX_BUFFER = 100_000_000
MAX_REPLICATIONS = 100_000
MAX_HORIZON_S = 100 * 365 * 86400.0  # a century of simulated time is surely a mistake


def _duration(value: Any) -> float:
    try:
        return parse_duration(value)
    except OverflowError:  # an integer too large for a float: pydantic would not catch it
        raise ValueError("the duration is far too large") from None


Duration = Annotated[float, BeforeValidator(_duration), WithJsonSchema(_DURATION_SCHEMA)]
Probability = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
Name = Annotated[str, Field(min_length=1)]


class Strict(BaseModel):
    """Base: unknown keys are errors, objects are immutable once validated."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Run(Strict):
    """How to run the scenario."""

    horizon: Duration = Field(description="Measured period after warm-up, e.g. \"30 d\".")
    warmup: Union[Duration, Literal["auto"]] = Field(
        0.0, description="Warm-up deleted from the statistics (not units); \"auto\" = MSER-5.")
    replications: Union[Annotated[int, Field(strict=True, ge=1, le=MAX_REPLICATIONS)],
                        Literal["auto"]] = Field(
        1, description="Independent replications; \"auto\" = add replications until the "
                       "throughput's relative 95% half-width is below `precision`.")
    seed: int = Field(0, strict=True, ge=0, le=2**63 - 1, description="Root seed: same seed, same results.")
    engine: Literal["simpy", "flowline"] = Field("simpy", description="simpy (full model) or flowline.")
    precision: float = Field(
        0.02, gt=0, lt=1, allow_inf_nan=False,
        description="(extension) Target relative half-width of the throughput's 95% interval "
                    "for replications: auto.")
    max_replications: int = Field(
        100, strict=True, ge=2, le=MAX_REPLICATIONS,
        description="(extension) Upper limit for replications: auto.")
    max_wip: int = Field(
        5_000_000, strict=True, ge=1,
        description="(extension) Runaway guard: a replication with more units in the system "
                    "stops with an error.")
    max_wall: Optional[Duration] = Field(
        None, description="(extension) Runaway guard: wall-clock time allowed per replication.")

    @field_validator("horizon")
    @classmethod
    def _horizon(cls, v: float) -> float:
        if not 0 < v <= MAX_HORIZON_S:
            raise ValueError(f"horizon must be positive and at most 100 years, got {v:g} s")
        return v

    @field_validator("warmup")
    @classmethod
    def _warmup(cls, v: float | str) -> float | str:
        if v != "auto" and not 0 <= v <= MAX_HORIZON_S:
            raise ValueError(f"warmup must be between 0 and 100 years, got {v:g} s")
        return v


class Rework(Strict):
    """After this step, with probability p the unit goes back to station `to`."""

    p: Probability
    to: Name


def _step_or_name(schema: dict[str, Any]) -> None:
    """JSON Schema of a route step: a bare station name is accepted as well as the mapping."""
    step = dict(schema)
    schema.clear()
    schema.update(title=step.pop("title", "RouteStep"), description=step.pop("description", ""),
                  anyOf=[{"type": "string", "minLength": 1, "description": "a station name"}, step])


class RouteStep(Strict):
    """One step of a route: a station, optionally with a rework loop."""

    model_config = ConfigDict(json_schema_extra=_step_or_name)

    station: Name
    rework: Rework | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, v: Any) -> Any:
        return {"station": v} if isinstance(v, str) else v


class Interarrival(Strict):
    interarrival: Distribution = Field(description="Time between releases (open arrivals).")


class Conwip(Strict):
    conwip: int = Field(strict=True, ge=1, le=MAX_BUFFER, description="Units kept in the system (closed loop).")


def _release_kind(v: Any) -> str | None:
    if isinstance(v, str):
        return "saturated" if v == "saturated" else None
    if isinstance(v, dict) and len(v) == 1:
        key = next(iter(v))
        return key if key in ("interarrival", "conwip") else None
    if isinstance(v, (Interarrival, Conwip)):
        return type(v).__name__.lower()
    return None


RELEASE_FORMS = "saturated, {interarrival: DIST} or {conwip: N}"
Release = Annotated[
    Union[
        Annotated[Literal["saturated"], Tag("saturated")],
        Annotated[Interarrival, Tag("interarrival")],
        Annotated[Conwip, Tag("conwip")],
    ],
    Discriminator(
        _release_kind,
        custom_error_type="release",
        custom_error_message=f"release must be one of {RELEASE_FORMS}",
    ),
]


class Product(Strict):
    """A product: its route through the stations and how units are released."""

    route: list[RouteStep] = Field(min_length=1)
    release: Release = Field("saturated", description="saturated | {interarrival: DIST} | {conwip: N}")
    energy_kwh: float | None = Field(
        None, gt=0, allow_inf_nan=False, description="Nameplate energy of one unit (kWh).")


class Failures(Strict):
    """Each machine of the station fails independently; repair is preemptive-resume."""

    mtbf: Distribution
    mttr: Distribution
    mode: Literal["time", "operation"] = "time"

    @field_validator("mtbf", "mttr")
    @classmethod
    def _positive_mean(cls, v: Dist) -> Dist:
        if not v.mean > 0:
            raise ValueError("must have a positive mean")
        return v


class Power(Strict):
    """Power draw per machine (kW) in each state; missing states draw 0."""

    busy: float = Field(0.0, ge=0, allow_inf_nan=False)
    starved: float = Field(0.0, ge=0, allow_inf_nan=False)
    blocked: float = Field(0.0, ge=0, allow_inf_nan=False)
    down: float = Field(0.0, ge=0, allow_inf_nan=False)
    setup: float = Field(0.0, ge=0, allow_inf_nan=False)
    off_shift: float = Field(0.0, ge=0, allow_inf_nan=False)


def _buffer(v: Any) -> Any:
    if isinstance(v, float) and math.isinf(v) and v > 0:
        return None
    if v == "unlimited":
        return None
    return v


class Station(Strict):
    """A station: identical parallel machines fed by one input buffer."""

    servers: int = Field(1, strict=True, ge=1, le=MAX_SERVERS, description="Identical parallel machines.")
    process_time: Distribution
    buffer: Annotated[int | None, BeforeValidator(_buffer)] = Field(
        None, ge=0, le=MAX_BUFFER,
        description="Input buffer places, not counting machines; omitted = unlimited.")
    scrap: Probability = 0.0
    failures: Failures | None = None
    power_kw: Power = Field(default_factory=Power)
    heat_kw: Power = Field(
        default_factory=Power,
        description="(extension) Heat drawn per machine in each state (kW thermal), e.g. "
                    "drying ovens; metered apart from electricity.")
    recovered_kw: Power = Field(
        default_factory=Power,
        description="(extension) Electric power fed back per machine in each state (kW), "
                    "e.g. regenerative formation racks; subtracted from net electricity.")
    area: str | None = Field(None, description="(extension) Process area, for energy shares.")

    @field_validator("process_time")
    @classmethod
    def _positive_mean(cls, v: Dist) -> Dist:
        if not v.mean > 0:
            raise ValueError("process_time must have a positive mean")
        return v


KeyPath = Annotated[str, Field(pattern=r"^[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-\[\]]+)+$")]


class Vary(Strict):
    """(extension) A sweep: a full factorial over key paths, and/or named variants.

    Each point is the scenario with `--set KEY.PATH=VALUE` overrides applied; with both,
    every variant is combined with every factorial combination.
    """

    factorial: dict[KeyPath, list[Any]] = Field(
        default_factory=dict,
        description="KEY.PATH -> list of values; every combination is a point.")
    variants: dict[Name, dict[KeyPath, Any]] = Field(
        default_factory=dict,
        description="name -> {KEY.PATH: value}; each variant is a point.")

    @field_validator("factorial")
    @classmethod
    def _non_empty_levels(cls, v: dict[str, list[Any]]) -> dict[str, list[Any]]:
        for key, levels in v.items():
            if not levels:
                raise ValueError(f"{key}: give at least one value to vary over")
        return v


class Scenario(Strict):
    """A whole scenario file, after `extends:` and `--set` have been applied."""

    name: Name
    description: str = ""
    run: Run
    products: dict[Name, Product] = Field(min_length=1)
    stations: dict[Name, Station] = Field(min_length=1)
    vary: Optional[Vary] = Field(
        None, description="(extension) Sweep: run every point with common random numbers.")
