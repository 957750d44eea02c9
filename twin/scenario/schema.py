"""The scenario format as pydantic models: the one place where input is checked and defaults live.

Keys and meanings follow ../shared/spec/scenario.md (version 1). Extensions are marked
"(extension)" in their descriptions and documented in docs/scenario-format.md.
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Callable
from typing import Annotated, Any, Literal, Optional, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PlainSerializer,
    PlainValidator,
    Tag,
    ValidationInfo,
    WithJsonSchema,
    WrapValidator,
    field_validator,
    model_validator,
)

from pydantic_core import PydanticCustomError

from twin.calendars import pattern
from twin.scenario.distributions import _DURATION_SCHEMA, DIST_JSON_SCHEMA, Dist, Distribution
from twin.units import parse_duration

MAX_SERVERS = 100_000
MAX_BUFFER = 100_000_000
MAX_REPLICATIONS = 100_000
MAX_HORIZON_S = 100 * 365 * 86400.0  # a century of simulated time is surely a mistake
MAX_QUANTITY = 1e9  # bound of powers (kW), lengths and coordinates (m), speeds, energies,
# prices: far beyond any plant (so surely a mistake), and far from where sums overflow


def _duration(value: Any) -> float:
    try:
        return parse_duration(value)
    except OverflowError:  # an integer too large for a float: pydantic would not catch it
        raise ValueError("the duration is far too large") from None


Duration = Annotated[float, BeforeValidator(_duration), WithJsonSchema(_DURATION_SCHEMA)]
Probability = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
Name = Annotated[str, Field(min_length=1)]


class Strict(BaseModel):
    """Base: unknown keys are errors, objects are immutable once validated, and a boolean is
    never taken for a number (pydantic's lax mode would read `true` as 1; the JSON Schema
    refuses it, and so does the loader)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_boolean_numbers(cls, v: Any, info: ValidationInfo) -> Any:
        if info.field_name is None:
            return v
        if not _takes_booleans(cls, info.field_name):
            at = _first(v, lambda x: isinstance(x, bool))
            if at is not None:
                wanted, given = _wanted(cls, info.field_name), str(_get(v, at)).lower()
                if wanted.startswith(("a number", "a whole number")) and (
                        at or " or " not in wanted):  # (an item: the field's numbers)
                    raise _nested(at, f"expected a number, got {given}: write a number "
                                      f"here, true and false are no numbers")
                raise _nested(at, f"expected {wanted}, got {given}")
        wanted = _wanted(cls, info.field_name).split(" or ")[0]
        if not _takes_text(cls, info.field_name) and wanted in ("a number", "a whole number"):
            at = _first(v, _reads_as_number)
            if at is not None:
                raise _nested(at, _text_for_number(wanted, _get(v, at)))
        return v


def _text_for_number(wanted: str, text: str) -> str:
    """The message for text where a number belongs (pydantic's lax mode would take it)."""
    return (f"expected {wanted}, got the text {json.dumps(text, ensure_ascii=False)[:60]}: "
            f"write the number without quotes or underscores (1000, 0.5, 2e3)")


def _nested(at: tuple, message: str) -> PydanticCustomError:
    """An error at the item `at` (keys and indices) inside the field's value: the loader
    places it there (`twin.scenario.messages`), not at the field."""
    return PydanticCustomError("nested_value", "{error}", {"error": message, "at": list(at)})


def _first(v: Any, bad: Callable[[Any], bool]) -> tuple | None:
    """The path (keys, indices) to the first value in `v` that is `bad`; None if none.
    Mapping keys are names, not values: they are not judged."""
    if bad(v):
        return ()
    items = v.items() if isinstance(v, dict) else enumerate(v) if isinstance(v, list) else ()
    for key, item in items:
        at = _first(item, bad)
        if at is not None:
            return (key, *at)
    return None


def _get(v: Any, at: tuple) -> Any:
    for step in at:
        v = v[step]
    return v


def _reads_as_number(v: Any) -> bool:
    """Text that pydantic's lax mode would read as a number ("0.5", YAML 1.2's text
    1_000); other text gets pydantic's own "expected a number"."""
    if not isinstance(v, str):
        return False
    try:
        float(v)
    except ValueError:
        return False
    return True


@functools.cache
def _wanted(model: type[BaseModel], field: str) -> str:
    """What `field` takes, in words: a number, or its words ('simpy' or 'flowline')."""
    words: list[str] = []
    number: str | bool = False
    text = False
    stack = [model.model_fields[field].annotation]
    while stack:
        tp = stack.pop()
        if get_origin(tp) is Literal:
            words += [repr(x) for x in get_args(tp) if isinstance(x, str)]
        elif tp is bool:
            words.append("true or false")
        elif tp is int:
            number = number or "a whole number"
        elif tp is float:
            number = "a number"
        elif tp is str:
            text = True
        else:
            stack += [a for a in get_args(tp) if not _is_metadata(a)]
    return " or ".join(([number] if number else []) + words + (["text"] if text else [])) \
        or "a number"


@functools.cache  # (a property of the model's class: judged once, not per value validated)
def _takes_booleans(model: type[BaseModel], field: str) -> bool:
    """Whether a boolean may stand in `field` (or in a model it holds, which checks itself)."""
    return _admits_booleans(model.model_fields[field].annotation)


def _admits_booleans(tp: Any) -> bool:
    if tp is bool or tp is Any or (isinstance(tp, type) and issubclass(tp, BaseModel)):
        return True
    if get_origin(tp) is Literal:
        return any(isinstance(value, bool) for value in get_args(tp))
    if isinstance(tp, str):  # an annotation pydantic left unresolved: do not judge it
        return True
    return any(_admits_booleans(arg) for arg in get_args(tp) if not _is_metadata(arg))


@functools.cache
def _takes_text(model: type[BaseModel], field: str) -> bool:
    """Whether text may stand in `field` (names, durations, distributions; a model it holds
    checks itself). Elsewhere pydantic's lax mode would read the text "0.5" or YAML 1.2's
    text 1_000 as a number, which the JSON Schema refuses."""
    info = model.model_fields[field]
    return _parses_itself(info.metadata) or _admits_text(info.annotation)


def _parses_itself(metadata: Any) -> bool:
    """A before or plain validator reads the raw input (durations, distributions)."""
    return any(isinstance(m, (BeforeValidator, PlainValidator, WrapValidator))
               for m in metadata)


def _admits_text(tp: Any) -> bool:
    if tp is str or tp is Any or (isinstance(tp, type) and issubclass(tp, BaseModel)):
        return True
    if hasattr(tp, "__get_pydantic_core_schema__"):  # a type that parses its own input
        return True
    if get_origin(tp) is Literal:
        return any(isinstance(value, str) for value in get_args(tp))
    if isinstance(tp, str):  # an annotation pydantic left unresolved: do not judge it
        return True
    args = get_args(tp)
    if _parses_itself(args):
        return True
    return any(_admits_text(arg) for arg in args if not _is_metadata(arg))


def _is_metadata(arg: Any) -> bool:
    """Annotated's metadata (Field, validators) and Literal's values are no types."""
    return not (isinstance(arg, type) or get_origin(arg) is not None or arg is Any
                or arg is None or isinstance(arg, str))


class Run(Strict):
    """How to run the scenario."""

    horizon: Duration = Field(description="Measured period after warm-up, e.g. \"30 d\".",
                              examples=["30 d"])
    warmup: Union[Duration, Literal["auto"]] = Field(
        0.0, description="Warm-up deleted from the statistics (not units); \"auto\" = MSER-5.",
        examples=["2 d", "auto"])
    replications: Union[Annotated[int, Field(strict=True, ge=1, le=MAX_REPLICATIONS)],
                        Literal["auto"]] = Field(
        1, description="Independent replications; \"auto\" = add replications until the "
                       "throughput's relative 95% half-width is below `precision`.",
        examples=[10, "auto"])
    seed: int = Field(0, strict=True, ge=0, le=2**63 - 1,
                      description="Root seed: same seed, same results.", examples=[42])
    engine: Literal["simpy", "flowline"] = Field(
        "simpy", description="simpy (full model) or flowline.", examples=["flowline"])
    precision: float = Field(
        0.02, gt=0, lt=1, allow_inf_nan=False,
        description="(extension) Target relative half-width of the throughput's 95% interval "
                    "for replications: auto.", examples=[0.02])
    max_replications: int = Field(
        100, strict=True, ge=2, le=MAX_REPLICATIONS,
        description="(extension) Upper limit for replications: auto.", examples=[50])
    max_wip: int = Field(
        5_000_000, strict=True, ge=1,
        description="(extension) Runaway guard: a replication with more units in the system "
                    "stops with an error.", examples=[100000])
    max_events: int = Field(
        2_000_000_000, strict=True, ge=1000,
        description="(extension) Runaway guard: events allowed per replication.",
        examples=[100000000])
    max_wall: Optional[Duration] = Field(
        None, description="(extension) Runaway guard: wall-clock time allowed per replication.",
        examples=["30 min"])

    @field_validator("max_wall")
    @classmethod
    def _max_wall(cls, v: float | None) -> float | None:
        if v is not None and not v > 0:
            raise ValueError(f"max_wall must be positive, got {v:g} s")
        return v

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

    p: Annotated[float, Field(ge=0.0, lt=1.0, allow_inf_nan=False)] = Field(
        description="Probability that a unit goes back after this step; below 1 (with 1 no "
                    "unit would ever leave the loop).", examples=[0.02])
    to: Name = Field(description="Station it goes back to: at or before this step on the "
                                 "route.", examples=["stack"])


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
    process_time: Optional[Distribution] = Field(
        None, description="(extension) This product's process time at this step (e.g. a "
                          "smaller cell stacks faster); omitted = the station's process_time.",
        examples=["9 s"])
    transport: Optional[Name] = Field(
        None, description="(extension) How units come to this step: from the step before, "
                          "and by rework back to it. A fleet (logistics.fleets) carries "
                          "them, or `direct`: passed on without a vehicle. Omitted = the "
                          "product's `transport` (direct without one).",
        examples=["agv", "direct"])

    @field_validator("process_time")
    @classmethod
    def _positive_mean(cls, v: Dist | None) -> Dist | None:
        if v is not None and not v.mean > 0:
            raise ValueError("process_time must have a positive mean")
        return v

    @model_validator(mode="before")
    @classmethod
    def _from_name(cls, v: Any) -> Any:
        return {"station": v} if isinstance(v, str) else v


class Interarrival(Strict):
    interarrival: Distribution = Field(description="Time between releases (open arrivals).",
                                       examples=[{"exponential": "20 s"}])
    calendar: Optional[Name] = Field(
        None, description="(extension) Working calendar (a name in `calendars`) of the "
                          "arrivals: units arrive only on shift, the times between them "
                          "counting on-shift time (deliveries on day shifts); omitted = "
                          "round the clock.", examples=["day_shift"])

    @field_validator("interarrival")
    @classmethod
    def _positive_mean(cls, v: Dist) -> Dist:
        if not v.mean > 0:
            raise ValueError("interarrival must have a positive mean (units 0 s apart would "
                             "all arrive at once)")
        return v


class Conwip(Strict):
    conwip: int = Field(strict=True, ge=1, le=MAX_BUFFER,
                        description="Units kept in the system (closed loop).", examples=[12])


def _release_kind(v: Any) -> str | None:
    if isinstance(v, str):
        return v if v in ("saturated", "assembly") else None
    # (the open-arrivals tag is no key of the form, so that error places are the keys')
    if isinstance(v, dict) and "interarrival" in v:  # (with its calendar, maybe)
        return "open arrivals"
    if isinstance(v, dict) and len(v) == 1:
        key = next(iter(v))
        return key if key == "conwip" else None
    if isinstance(v, Interarrival):
        return "open arrivals"
    return "conwip" if isinstance(v, Conwip) else None


RELEASE_FORMS = "saturated, {interarrival: DIST} (with calendar: NAME, maybe), {conwip: N} or " \
                "assembly"
Release = Annotated[
    Union[
        Annotated[Literal["saturated"], Tag("saturated")],
        Annotated[Literal["assembly"], Tag("assembly")],
        Annotated[Interarrival, Tag("open arrivals")],
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

    route: list[RouteStep] = Field(
        min_length=1, description="Steps in order: station names, or {station, rework, "
                                  "process_time}.",
        examples=[["coat", "calender", {"station": "weld",
                                        "rework": {"p": 0.02, "to": "calender"}}]])
    release: Release = Field(
        "saturated", description="saturated | {interarrival: DIST} | {conwip: N} | assembly "
                                 "(extension: units are made by the assembly station that "
                                 "is the first step of the route, from its parts)",
        examples=["saturated", {"interarrival": {"exponential": "20 s"}}, {"conwip": 12},
                  "assembly", {"interarrival": {"exponential": "2 h"}, "calendar": "day_shift"}])
    energy_kwh: float | None = Field(
        None, gt=0, le=MAX_QUANTITY, allow_inf_nan=False,
        description="Nameplate energy of one unit (kWh).",
        examples=[3.76])
    campaign: int = Field(
        1, strict=True, ge=1, le=MAX_BUFFER,
        description="(extension) With release: saturated, units released in a row before "
                    "the first station turns to the next saturated product there (a product "
                    "mix run in campaigns, e.g. to save changeovers); default 1 (take turns "
                    "unit by unit).", examples=[600])
    transport: Optional[Name] = Field(
        None, description="(extension) Fleet (logistics.fleets) that carries every unit from "
                          "each station of the route to the next (a route step's own "
                          "`transport` overrides it for the moves into that step); omitted = "
                          "units pass on directly.", examples=["agv"])

    @field_validator("campaign")
    @classmethod
    def _campaign_of_saturated(cls, v: int, info: ValidationInfo) -> int:
        release = info.data.get("release", "saturated")  # (absent: release was invalid)
        if v != 1 and release != "saturated":
            raise ValueError("campaign applies to release: saturated (units released in a "
                             "row at the first station); leave it out for this release")
        return v


class Failures(Strict):
    """Each machine of the station fails independently; repair is preemptive-resume."""

    mtbf: Distribution = Field(description="Time between failures: time up (mode: time) or "
                                           "busy time (mode: operation).",
                               examples=[{"exponential": "8 h"}])
    mttr: Distribution = Field(description="Time to repair.",
                               examples=[{"exponential": "30 min"}])
    mode: Literal["time", "operation"] = Field(
        "time", description="time: the clock to failure runs whenever the machine is up "
                            "(and on shift); operation: only while it processes.",
        examples=["operation"])

    @field_validator("mtbf", "mttr")
    @classmethod
    def _positive_mean(cls, v: Dist) -> Dist:
        if not v.mean > 0:
            raise ValueError("must have a positive mean")
        return v


class Power(Strict):
    """Power draw per machine (kW) in each state; missing states draw 0."""

    busy: float = Field(0.0, ge=0, le=MAX_QUANTITY, allow_inf_nan=False,
                        description="kW while processing.", examples=[150])
    starved: float = Field(0.0, ge=0, le=MAX_QUANTITY, allow_inf_nan=False,
                        description="kW while idle, waiting for a unit.", examples=[60])
    blocked: float = Field(0.0, ge=0, le=MAX_QUANTITY, allow_inf_nan=False,
                        description="kW while holding a finished unit that cannot move on.", examples=[60])
    down: float = Field(0.0, ge=0, le=MAX_QUANTITY, allow_inf_nan=False,
                        description="kW while failed or under repair.", examples=[5])
    setup: float = Field(0.0, ge=0, le=MAX_QUANTITY, allow_inf_nan=False,
                        description="kW while changing over.", examples=[80])
    off_shift: float = Field(0.0, ge=0, le=MAX_QUANTITY, allow_inf_nan=False,
                        description="kW while off shift (extension, with a calendar).", examples=[2])


def _buffer(v: Any) -> Any:
    if isinstance(v, float) and math.isinf(v) and v > 0:
        return None
    if v == "unlimited":
        return None
    if _reads_as_number(v):  # (this before-validator makes Strict's check count the field
        # as one that reads text, so the check is made here)
        raise ValueError(_text_for_number("a whole number", v))
    return v


class Rack(Strict):
    """The rack face one crane serves (one aisle), metres."""

    length: float = Field(gt=0, le=MAX_QUANTITY, allow_inf_nan=False,
                          description="Along the aisle, metres.",
                          examples=[80.0])
    height: float = Field(gt=0, le=MAX_QUANTITY, allow_inf_nan=False,
                          description="Metres.", examples=[30.0])


class CraneSpeed(Strict):
    """Stacker-crane speeds, m/s; horizontal and vertical travel run at the same time."""

    horizontal: float = Field(gt=0, le=MAX_QUANTITY, allow_inf_nan=False,
                              description="m/s along the aisle.",
                              examples=[3.0])
    vertical: float = Field(gt=0, le=MAX_QUANTITY, allow_inf_nan=False,
                            description="m/s of the lift.",
                            examples=[1.0])


class Warehouse(Strict):
    """(extension) An automated storage and retrieval system (AS/RS): units are stored by
    stacker cranes, dwell (the station's `process_time`, e.g. aging) and are retrieved."""

    places: int = Field(strict=True, ge=1, le=MAX_BUFFER, description="Storage places.",
                        examples=[20000])
    cranes: int = Field(1, strict=True, ge=1, le=MAX_SERVERS,
                        description="Stacker cranes, one per aisle, one unit at a time.",
                        examples=[4])
    rack: Rack = Field(description="The rack face of one aisle.",
                       examples=[{"length": 80, "height": 30}])
    speed: CraneSpeed = Field(description="Crane speeds.",
                              examples=[{"horizontal": 3, "vertical": 1}])
    pick_deposit: Distribution = Field(
        0.0, validate_default=True, description="Time to pick up or set down a unit.",
        examples=["10 s"])
    commands: Literal["single", "dual"] = Field(
        "single", description="Crane cycles. `single`: each store and each retrieval is a "
        "trip of its own (I/O point, place, back). `dual`: a crane that finds a unit to "
        "store and one due for retrieval does both in one trip (I/O point, the new unit's "
        "place, the retrieved unit's place, back), as warehouse control systems do to cut "
        "empty travel; with only one of them it makes a single-command trip.",
        examples=["dual"])


class StoredUnits(Strict):
    """(extension) Units in a warehouse's store at time 0, with their remaining dwell."""

    units: int = Field(strict=True, ge=0, le=MAX_BUFFER,
                       description="Units in store (beyond the free places: on the input "
                                   "conveyor).", examples=[60000])
    remaining: Optional[Distribution] = Field(
        None, description="Dwell each unit has left at time 0 (e.g. from the storage dates "
                          "in the MES); omitted = as in a store filled at a steady rate for "
                          "longer than any dwell (the dwell's stationary residual).",
        examples=[{"uniform": ["0 d", "21 d"]}])


def _initial_kind(v: Any) -> str | None:
    """Which form an `initial_wip` entry takes: a number of units, or units in store."""
    if isinstance(v, (dict, StoredUnits)):
        return "in store"
    return "count"


InitialUnits = Annotated[
    Union[
        Annotated[Annotated[int, Field(strict=True, ge=0, le=MAX_BUFFER)], Tag("count")],
        Annotated[StoredUnits, Tag("in store")],
    ],
    Discriminator(_initial_kind),
]


class Changeover(Strict):
    """(extension) The setup time of one product change at a station."""

    from_: Name = Field(alias="from", description="Product the machine is set up for.",
                        examples=["cell-587"])
    to: Name = Field(description="Product of the unit it takes next.", examples=["cell-1175"])
    time: Distribution = Field(description="Setup time of this change.", examples=["30 min"])


def _setup_form(v: Any) -> Any:
    """A bare distribution is the setup time of every product change."""
    if isinstance(v, dict) and ("time" in v or "changes" in v):
        return v  # the mapping form (any other key in it is reported as unknown)
    return {"time": v}


_SETUP_OBJECT = {
    "type": "object", "additionalProperties": False, "minProperties": 1,
    "properties": {
        "time": {**DIST_JSON_SCHEMA, "description": "Setup time of every change not listed "
                 "in `changes`; default 0 (none).", "examples": ["20 min"]},
        "changes": {"type": "array", "description": "Setup times of particular changes.",
                    "items": {"type": "object", "additionalProperties": False,
                              "required": ["from", "to", "time"],
                              "properties": {"from": {"type": "string", "minLength": 1},
                                             "to": {"type": "string", "minLength": 1},
                                             "time": DIST_JSON_SCHEMA}},
                    "examples": [[{"from": "cell-587", "to": "cell-1175", "time": "30 min"}]]},
    },
}
_SETUP_SCHEMA = {
    "description": "(extension) Changeovers: a machine that takes a unit of another product "
                   "than the one it last processed is first set up (state setup) for this "
                   "time: a distribution (every change), or {time, changes: [{from, to, "
                   "time}]} with times per change.",
    "anyOf": [DIST_JSON_SCHEMA, _SETUP_OBJECT],
    "examples": ["20 min", {"time": "20 min", "changes": [
        {"from": "cell-587", "to": "cell-1175", "time": "30 min"}]}],
}


class SetupSpec(Strict):
    """(extension) Changeover times of a station's machines (see `_SETUP_SCHEMA`)."""

    time: Distribution = Field(0.0, validate_default=True)
    changes: list[Changeover] = Field(default_factory=list)

    @model_validator(mode="after")
    def _each_change_once(self) -> "SetupSpec":
        seen = set()
        for c in self.changes:
            if c.from_ == c.to:
                raise ValueError(f"a change from {c.from_} to itself needs no setup; leave "
                                 f"it out")
            if (c.from_, c.to) in seen:
                raise ValueError(f"the change from {c.from_} to {c.to} is listed twice")
            seen.add((c.from_, c.to))
        return self


Setup = Annotated[SetupSpec, BeforeValidator(_setup_form), WithJsonSchema(_SETUP_SCHEMA)]


class Batch(Strict):
    """(extension) A batch station: each machine (oven, formation rack) processes up to
    `size` units together, for one process time, starting once `min` wait in the buffer."""

    size: int = Field(strict=True, ge=1, le=MAX_BUFFER, description="Units per batch.",
                      examples=[700])
    min: Optional[int] = Field(
        None, strict=True, ge=1, le=MAX_BUFFER,
        description="Units waiting before a batch starts; default `size` (full batches only).",
        examples=[500])

    @model_validator(mode="after")
    def _min_at_most_size(self) -> "Batch":
        if self.min is not None and self.min > self.size:
            raise ValueError(f"min ({self.min}) cannot exceed size ({self.size}): a batch "
                             f"holds at most size units")
        return self


class Assembly(Strict):
    """(extension) An assembly station: each machine takes one kit of parts (units of other
    products whose routes end here) and makes one unit of the product released by
    assembly here."""

    parts: dict[Name, Annotated[int, Field(strict=True, ge=1, le=MAX_BUFFER)]] = Field(
        min_length=1, description="Units of each part product in one kit.",
        examples=[{"anode-sheet": 2, "cathode-sheet": 2}])


class Station(Strict):
    """A station: identical parallel machines fed by one input buffer."""

    servers: int = Field(1, strict=True, ge=1, le=MAX_SERVERS,
                         description="Identical parallel machines.", examples=[2])
    process_time: Distribution = Field(description="Time a machine takes per unit.",
                                       examples=["18 s", {"lognormal": {"mean": "18 s",
                                                                        "cv": 0.1}}])
    buffer: Annotated[int | None, BeforeValidator(_buffer), WithJsonSchema(
        {"anyOf": [{"type": "integer", "minimum": 0, "maximum": MAX_BUFFER},
                   {"const": "unlimited"}, {"type": "null"}]})] = Field(
        None, ge=0, le=MAX_BUFFER,
        description="Input buffer places, not counting machines; omitted (or unlimited) = "
                    "unlimited.", examples=[4, "unlimited"])
    scrap: Probability = Field(0.0, description="Probability that a processed unit is "
                                                "scrapped here.", examples=[0.01])
    failures: Failures | None = Field(
        None, description="Breakdowns of each machine; omitted = none.",
        examples=[{"mtbf": {"exponential": "8 h"}, "mttr": {"exponential": "30 min"}}])
    power_kw: Power = Field(default_factory=Power)
    heat_kw: Power = Field(
        default_factory=Power,
        description="(extension) Heat drawn per machine in each state (kW thermal), e.g. "
                    "drying ovens; metered apart from electricity.", examples=[{"busy": 3000, "starved": 1200}])
    recovered_kw: Power = Field(
        default_factory=Power,
        description="(extension) Electric power fed back per machine in each state (kW), "
                    "e.g. regenerative formation racks; subtracted from net electricity.", examples=[{"busy": 0.12}])
    area: str | None = Field(None, description="(extension) Process area, for energy shares.",
                             examples=["coating & drying"])
    x: float | None = Field(
        None, ge=-MAX_QUANTITY, le=MAX_QUANTITY, allow_inf_nan=False,
        description="(extension) Position on the floor plan, metres east (for the layout map).",
        examples=[120.0])
    y: float | None = Field(
        None, ge=-MAX_QUANTITY, le=MAX_QUANTITY, allow_inf_nan=False,
        description="(extension) Position on the floor plan, metres north (for the layout map).",
        examples=[40.0])

    warehouse: Optional[Warehouse] = Field(
        None, description="(extension) Make the station an AS/RS: cranes store each unit, it "
                          "dwells `process_time`, cranes retrieve it; `buffer` is the input "
                          "conveyor.",
        examples=[{"places": 20000, "cranes": 4, "rack": {"length": 80, "height": 30},
                   "speed": {"horizontal": 3, "vertical": 1}, "pick_deposit": "10 s"}])
    setup: Optional[Setup] = Field(
        None, description=_SETUP_SCHEMA["description"], examples=_SETUP_SCHEMA["examples"])
    batch: Optional[Batch] = Field(
        None, description="(extension) Batch processing: each machine takes up to `size` "
                          "units at once (starting when `min` wait), one process time per "
                          "batch; the buffer holds the units that form the next batches.",
        examples=[{"size": 700}, {"size": 1200, "min": 900}])
    assembly: Optional[Assembly] = Field(
        None, description="(extension) Assembly: each machine joins a kit of parts into one "
                          "unit of the product whose release is `assembly` and whose route "
                          "begins here; `buffer` is then the places for each part.",
        examples=[{"parts": {"anode": 1, "cathode": 1}}])
    calendar: Optional[Name] = Field(
        None, description="(extension) Working calendar (a name in `calendars`): the "
                          "station's machines are off shift outside it and their work pauses "
                          "there; omitted = round the clock.", examples=["two_shifts"])
    at_shift_end: Literal["pause", "finish"] = Field(
        "pause", description="(extension) Under a `calendar`: what a machine busy with a unit "
                             "(or a batch, or a kit) does when the shift ends or a planned "
                             "stop begins. pause: the work stops and resumes next shift; "
                             "finish: it goes on in overtime to the end of the unit, then the "
                             "machine is off shift (unattended ovens, formation racks). Off "
                             "shift no machine starts new work either way.",
        examples=["finish"])
    at: Optional[Name] = Field(
        None, description="(extension) Point of the path network (logistics.points) where "
                          "vehicles pick up and drop units; omitted = the point named like the "
                          "station.", examples=["coat"])

    @model_validator(mode="after")
    def _both_coordinates(self) -> "Station":
        if (self.x is None) != (self.y is None):
            raise ValueError("give both x and y (metres) or neither")
        if self.warehouse is not None:
            if self.servers != 1:
                raise ValueError("a warehouse has cranes, not servers: give warehouse.cranes "
                                 "and leave servers out")
            if self.scrap or self.failures is not None or self.setup is not None or \
                    self.batch is not None:
                raise ValueError("scrap, failures, setups and batches are not modelled in a "
                                 "warehouse; leave them out")
            if self.calendar is not None:
                raise ValueError("a warehouse works round the clock (its units dwell there "
                                 "whatever the shift); leave calendar out")
        if self.assembly is not None and (self.batch is not None or self.setup is not None
                                          or self.warehouse is not None):
            raise ValueError("an assembly station makes one product from its parts: batches, "
                             "setups and warehouses are not modelled with it; leave them out")
        if self.batch is not None:
            least = self.batch.min or self.batch.size
            if self.buffer is not None and self.buffer < least:
                raise ValueError(f"a batch forms in the buffer: give it at least {least} "
                                 f"places (batch.min, or batch.size), not {self.buffer}")
            if self.setup is not None:
                raise ValueError("setups at a batch station are not modelled; leave setup out")
        return self

    @field_validator("process_time")
    @classmethod
    def _positive_mean(cls, v: Dist) -> Dist:
        if not v.mean > 0:
            raise ValueError("process_time must have a positive mean")
        return v




DAY_S = 86400.0
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def _span_pair(v: Any) -> Any:
    """`[from, to]` is short for `{from: .., to: ..}`."""
    if isinstance(v, (list, tuple)) and len(v) == 2:
        return {"from": v[0], "to": v[1]}
    return v


class DailySpanSpec(Strict):
    """(extension) A daily span of time (a shift or a break) by times of day; it ends the
    next day when `to` is not after `from`."""

    from_: Duration = Field(alias="from", description="Time of day it begins.")
    to: Duration = Field(description="Time of day it ends (up to \"24 h\"; at or before "
                                     "`from`: the next day).")
    days: Optional[list[Day]] = Field(
        None, min_length=1,
        description="Days on which it begins; default: the calendar's `days` (a shift) or "
                    "every day (a break).")

    @model_validator(mode="after")
    def _times_of_day(self) -> "DailySpanSpec":
        if not 0.0 <= self.from_ < DAY_S:
            raise ValueError(f"from must be a time of day before \"24 h\", got "
                             f"\"{self.from_ / 3600:g} h\"")
        if not 0.0 < self.to <= DAY_S:
            raise ValueError(f"to must be a time of day after \"0 h\" and up to \"24 h\", "
                             f"got \"{self.to / 3600:g} h\"")
        if self.to == self.from_:
            raise ValueError("it ends when it begins (no time at all); round the clock is "
                             "[\"0 h\", \"24 h\"]")
        if self.days is not None and len(set(self.days)) != len(self.days):
            raise ValueError("a day is listed twice in days")
        return self


def _span_schema(what: str, examples: list[Any]) -> dict[str, Any]:
    time = {"anyOf": [{"type": "number", "minimum": 0, "maximum": DAY_S,
                       "description": "seconds since midnight"}, _DURATION_SCHEMA["anyOf"][1]],
            "description": "time of day"}
    return {"anyOf": [
        {"type": "array", "items": time, "minItems": 2, "maxItems": 2,
         "description": f"[from, to]: {what} by times of day (ending the next day when to is "
                        f"not after from)"},
        {"type": "object", "additionalProperties": False, "required": ["from", "to"],
         "properties": {"from": time, "to": time,
                        "days": {"anyOf": [{"type": "array", "items": {"enum": list(DAYS)},
                                            "uniqueItems": True, "minItems": 1},
                                           {"type": "null"}],
                                 "description": "days on which it begins"}}}],
        "examples": examples}


Shift = Annotated[DailySpanSpec, BeforeValidator(_span_pair),
                  WithJsonSchema(_span_schema("a shift", [["6 h", "14 h"], {
                      "from": "6 h", "to": "12 h", "days": ["sat"]}]))]
Break = Annotated[DailySpanSpec, BeforeValidator(_span_pair),
                  WithJsonSchema(_span_schema("a break", [["10 h", "10.5 h"]]))]


class StopSpec(Strict):
    """(extension) A one-off planned stop (maintenance, holiday), by times since the start
    of the run (warm-up included)."""

    from_: Duration = Field(alias="from", description="When it begins, since the run's start.")
    to: Duration = Field(description="When it ends, since the run's start.")

    @model_validator(mode="after")
    def _ends_after_start(self) -> "StopSpec":
        if self.from_ < 0:
            raise ValueError(f"a stop cannot begin before the run (from "
                             f"\"{self.from_ / 3600:g} h\"); times count from its start")
        if not self.to > self.from_:
            raise ValueError(f"a stop must end after it begins (from \"{self.from_ / 3600:g} h\","
                             f" to \"{self.to / 3600:g} h\")")
        return self


Stop = Annotated[StopSpec, BeforeValidator(_span_pair), WithJsonSchema({
    "anyOf": [{"type": "array", "items": _DURATION_SCHEMA, "minItems": 2, "maxItems": 2},
              {"type": "object", "additionalProperties": False, "required": ["from", "to"],
               "properties": {"from": _DURATION_SCHEMA, "to": _DURATION_SCHEMA}}],
    "description": "[from, to]: times since the start of the run (warm-up included)",
    "examples": [["20 d", "22 d"]]})]


class CalendarSpec(Strict):
    """(extension) A working calendar: daily shifts on some days of the week, less breaks and
    one-off stops. Stations under it are off shift outside it; their work pauses."""

    shifts: list[Shift] = Field(
        min_length=1, description="Working times of a day, e.g. [[\"6 h\", \"14 h\"], "
                                  "[\"14 h\", \"22 h\"]].",
        examples=[[["6 h", "14 h"], ["14 h", "22 h"]], [["22 h", "6 h"]]])
    days: list[Day] = Field(
        list(DAYS), min_length=1, json_schema_extra={"uniqueItems": True},
        description="Days of the week on which the shifts begin; default every day.",
        examples=[["mon", "tue", "wed", "thu", "fri"]])
    breaks: list[Break] = Field(
        default_factory=list, description="Daily breaks taken out of the shifts.",
        examples=[[["10 h", "10.5 h"], ["18 h", "18.5 h"]]])
    stops: list[Stop] = Field(
        default_factory=list,
        description="One-off planned stops (maintenance, holidays): [from, to] since the "
                    "start of the run, warm-up included.", examples=[[["20 d", "22 d"]]])

    @field_validator("days")
    @classmethod
    def _each_day_once(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("a day is listed twice")
        return v

    @model_validator(mode="after")
    def _some_working_time(self) -> "CalendarSpec":
        starts, _ = pattern(self)
        if not starts:
            raise ValueError("the calendar has no working time left (its breaks cover every "
                             "shift); a station under it would never work")
        return self



def _tariff_steps(v: Any) -> Any:
    """A flat price, or {time of day: price from then on}, as steps sorted by their hour."""
    if isinstance(v, bool):
        return v  # let the type check reject it
    if isinstance(v, (int, float)):
        return [{"at_h": 0.0, "price": v}]
    if not isinstance(v, dict):
        return v  # already steps (a validated scenario dumped and read back), or an error
    if not v:
        raise ValueError("give at least one price, e.g. {\"0 h\": 0.5}")
    steps: dict[float, Any] = {}
    for key, price in v.items():
        try:
            at = _duration(key)
        except ValueError as e:
            raise ValueError(f"tariff time {key!r}: {e}") from None
        if not 0.0 <= at < DAY_S:
            raise ValueError(f"tariff time {key!r} must be a time of day from \"0 h\" to "
                             f"before \"24 h\"")
        if at in steps:
            raise ValueError(f"tariff time {key!r} is given twice")
        steps[at] = price
    return [{"at_h": at / 3600.0, "price": steps[at]} for at in sorted(steps)]


class TariffStep(Strict):
    """(extension) From `at_h` (hour of day) until the next step, electricity costs `price`."""

    at_h: float = Field(ge=0, lt=24, allow_inf_nan=False)
    price: float = Field(strict=True, ge=-MAX_QUANTITY, le=MAX_QUANTITY, allow_inf_nan=False,
                         description="Price per kWh (negative allowed).")


_TARIFF_SCHEMA = {
    "description": "(extension) Electricity price per kWh: a number (flat), or a time-of-use "
                   "mapping {time of day: price from then until the next time}, cyclic over "
                   "the day, e.g. {\"0 h\": 0.3, \"8 h\": 0.8, \"22 h\": 0.3}.",
    "anyOf": [{"type": "number"},
              {"type": "object", "minProperties": 1, "additionalProperties": {"type": "number"}}],
}
def _tariff_written(steps: list[TariffStep]) -> dict[str, float]:
    """The steps as a file writes them, {time of day: price}, so a dumped scenario reads
    back the same."""
    return {f"{step.at_h!r} h": step.price for step in steps}


def _tariff_sorted(steps: list[TariffStep]) -> list[TariffStep]:
    """Steps given as a list (a scenario built in code) in the order of the day, each
    hour once, as the mapping form gives them."""
    if not steps:
        raise ValueError("give at least one price, e.g. {\"0 h\": 0.5}")
    steps = sorted(steps, key=lambda step: step.at_h)
    for a, b in zip(steps, steps[1:]):
        if a.at_h == b.at_h:
            raise ValueError(f"tariff hour {a.at_h:g} is given twice")
    return steps


Tariff = Annotated[list[TariffStep], BeforeValidator(_tariff_steps),
                   AfterValidator(_tariff_sorted), PlainSerializer(_tariff_written),
                   WithJsonSchema(_TARIFF_SCHEMA)]


class FacilityLoad(Strict):
    """(extension) A constant load of the building (dry room, HVAC), on for the whole run."""

    kw: float = Field(ge=0, le=MAX_QUANTITY, allow_inf_nan=False,
                      description="(extension) Constant power (kW; kW thermal for heat).",
                      examples=[400])
    carrier: Literal["electricity", "heat"] = Field(
        "electricity", description="(extension) electricity (default) or heat.",
        examples=["heat"])
    area: str | None = Field(
        None, description="(extension) Process area for energy shares; default: its name.",
        examples=["assembly"])


class Energy(Strict):
    """(extension) Plant energy: facility loads, prices and emission factors."""

    facility: dict[Name, FacilityLoad] = Field(
        default_factory=dict,
        description="(extension) name -> constant load {kw, carrier, area}, e.g. dry rooms.",
        examples=[{"dry_rooms": {"kw": 800, "area": "assembly"},
                   "aging_heating": {"kw": 300, "carrier": "heat", "area": "aging"}}])
    tariff: Optional[Tariff] = Field(None, description=_TARIFF_SCHEMA["description"],
                                     examples=[{"0 h": 0.32, "8 h": 0.65, "17 h": 1.05}])
    run_starts_at: Duration = Field(
        0.0, description="(extension) Time of day at which the run (warm-up included) starts, "
                         "for the tariff clock; default \"0 h\" (midnight).",
        examples=["6 h"])
    heat_price: Optional[float] = Field(
        None, ge=-MAX_QUANTITY, le=MAX_QUANTITY, allow_inf_nan=False,
        description="(extension) Price per kWh of heat.",
        examples=[0.28])
    currency: Optional[str] = Field(
        None, description="(extension) Label of the prices' currency, e.g. CNY (reports only).",
        examples=["CNY"])
    co2_kg_per_kwh: Optional[float] = Field(
        None, ge=0, le=MAX_QUANTITY, allow_inf_nan=False,
        description="(extension) Grid emission factor, kg CO2 per kWh of net electricity.",
        examples=[0.537])
    heat_co2_kg_per_kwh: Optional[float] = Field(
        None, ge=0, le=MAX_QUANTITY, allow_inf_nan=False,
        description="(extension) Emission factor of heat, kg CO2 per kWh of heat.",
        examples=[0.2])

    @field_validator("run_starts_at")
    @classmethod
    def _time_of_day(cls, v: float) -> float:
        if not 0.0 <= v < DAY_S:
            raise ValueError(f"run_starts_at must be a time of day before \"24 h\", got {v:g} s")
        return v


Coordinate = Annotated[float, Field(ge=-MAX_QUANTITY, le=MAX_QUANTITY, allow_inf_nan=False)]
Point = Annotated[list[Coordinate],
                  Field(min_length=2, max_length=2)]
Speed = Annotated[float, Field(gt=0, le=MAX_QUANTITY, allow_inf_nan=False)]


class PathSpec(Strict):
    """An aisle between two points that vehicles travel (two-way unless `one_way`)."""

    from_: Name = Field(alias="from", description="Point where the path starts.")
    to: Name = Field(description="Point where the path ends.")
    length: Optional[float] = Field(
        None, gt=0, le=MAX_QUANTITY, allow_inf_nan=False,
        description="Metres along the path; omitted = the straight line between the points.",
        examples=[35.0])
    one_way: bool = Field(False, strict=True,
                          description="Vehicles travel it only from `from` to `to`.")
    capacity: Optional[int] = Field(
        None, strict=True, ge=1, le=MAX_SERVERS,
        description="(extension) Vehicles on the path at once, both directions counted (1: "
                    "a one-lane aisle); a vehicle waits at the path's start for room, first "
                    "come first served. Omitted = unlimited (vehicles never hinder each "
                    "other).", examples=[1])


def _path_pair(v: Any) -> Any:
    if isinstance(v, (list, tuple)) and len(v) == 2:
        return {"from": v[0], "to": v[1]}
    return v


_PATH_SCHEMA = {
    "anyOf": [
        {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 2,
         "maxItems": 2, "description": "[from, to]: two-way, straight-line length"},
        {"type": "object", "additionalProperties": False, "required": ["from", "to"],
         "properties": {
             "from": {"type": "string", "minLength": 1, "description": "Point where it starts."},
             "to": {"type": "string", "minLength": 1, "description": "Point where it ends."},
             "length": {"type": ["number", "null"], "exclusiveMinimum": 0,
                        "description": "Metres; omitted (or null) = the straight line.",
                        "examples": [35.0]},
             "one_way": {"type": "boolean", "default": False,
                         "description": "Travelled only from `from` to `to`."},
             "capacity": {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_SERVERS,
                          "description": "(extension) Vehicles on the path at once, both "
                                         "directions counted (1: a one-lane aisle); others "
                                         "wait at its start, first come first served. "
                                         "Omitted (or null) = unlimited.",
                          "examples": [1, 2]}}},
    ],
    "examples": [["depot", "coat"], {"from": "coat", "to": "calender", "length": 35},
                 {"from": "coat-out", "to": "calender", "capacity": 1}],
}
Path = Annotated[PathSpec, BeforeValidator(_path_pair), WithJsonSchema(_PATH_SCHEMA)]


# A vehicle power left out for a charging state is that of the state it resembles.
CHARGING_POWER_DEFAULTS = {"to_charger": "moving_empty", "waiting_charger": "idle",
                           "charging": "idle", "waiting_lift": "idle", "riding_lift": "idle"}


class VehiclePower(Strict):
    """Power draw per vehicle (kW) in each vehicle state; missing states draw 0."""

    moving_loaded: float = Field(0.0, ge=0, le=MAX_QUANTITY, allow_inf_nan=False, examples=[1.5],
                                 description="Driving with a unit on board.")
    moving_empty: float = Field(0.0, ge=0, le=MAX_QUANTITY, allow_inf_nan=False, examples=[1.0],
                                description="Driving empty to a pickup.")
    loading: float = Field(0.0, ge=0, le=MAX_QUANTITY, allow_inf_nan=False, examples=[0.5],
                           description="Taking a unit on board.")
    unloading: float = Field(0.0, ge=0, le=MAX_QUANTITY, allow_inf_nan=False, examples=[0.5],
                             description="Setting a unit down.")
    waiting: float = Field(0.0, ge=0, le=MAX_QUANTITY, allow_inf_nan=False, examples=[0.3],
                           description="Loaded, waiting for a place (or, with load_wait, at "
                                       "a pickup for a fuller load).")
    idle: float = Field(0.0, ge=0, le=MAX_QUANTITY, allow_inf_nan=False, examples=[0.2],
                        description="No move to make.")
    to_charger: Optional[float] = Field(
        None, ge=0, le=MAX_QUANTITY, allow_inf_nan=False, examples=[1.0],
        description="(extension, battery) Driving empty to a charger; omitted = moving_empty.")
    waiting_charger: Optional[float] = Field(
        None, ge=0, le=MAX_QUANTITY, allow_inf_nan=False, examples=[0.2],
        description="(extension, battery) At a charger, waiting for a free charging place; "
                    "omitted = idle.")
    charging: Optional[float] = Field(
        None, ge=0, le=MAX_QUANTITY, allow_inf_nan=False, examples=[0.2],
        description="(extension, battery) The vehicle's own draw while it charges (the "
                    "charger supplies it; the battery gains charge_kw less this); "
                    "omitted = idle.")
    waiting_lift: Optional[float] = Field(
        None, ge=0, le=MAX_QUANTITY, allow_inf_nan=False, examples=[0.2],
        description="(extension, lifts) At a lift's point, waiting for its car; "
                    "omitted = idle.")
    riding_lift: Optional[float] = Field(
        None, ge=0, le=MAX_QUANTITY, allow_inf_nan=False, examples=[0.2],
        description="(extension, lifts) Driving into a lift car, riding it and driving out "
                    "(the lift carries the vehicle); omitted = idle.")


def _charger_places(v: Any) -> Any:
    """A list of charging points (one place each) as {point: places}."""
    if not isinstance(v, list):
        return v
    places: dict[Any, int] = {}
    for name in v:
        if not isinstance(name, str) or not name:
            raise ValueError(f"a charging point is a point name, got {name!r}")
        if name in places:
            raise ValueError(f"charging point {name!r} is listed twice; for several places "
                             f"at one point write {{{name}: 2}}")
        places[name] = 1
    return places


_CHARGERS_SCHEMA = {
    "description": "(extension) Where the fleet's vehicles charge: a list of points "
                   "(logistics.points) with one charging place each, or {point: number of "
                   "charging places}. The places are this fleet's own.",
    "anyOf": [{"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1,
               "uniqueItems": True},
              {"type": "object", "minProperties": 1,
               "additionalProperties": {"type": "integer", "minimum": 1,
                                        "maximum": MAX_SERVERS}}],
    "examples": [["depot"], {"depot": 2, "charge-east": 1}],
}
Chargers = Annotated[dict[Name, Annotated[int, Field(strict=True, ge=1, le=MAX_SERVERS)]],
                     BeforeValidator(_charger_places), WithJsonSchema(_CHARGERS_SCHEMA),
                     Field(min_length=1)]


def vehicle_power(power: VehiclePower, state: str) -> float:
    """kW of a vehicle in `state`, a charging state's default filled in."""
    kw = getattr(power, state)
    return getattr(power, CHARGING_POWER_DEFAULTS[state]) if kw is None else kw


class Battery(Strict):
    """(extension) The vehicles' traction battery and how they recharge (docs/modelling.md,
    Batteries and charging): a vehicle whose charge is at or below `recharge_below` when it
    has set a unit down (or while idle) drives to a charger and charges to `charge_to`; with
    `opportunity`, idle vehicles also charge, and moves may cut those charges short."""

    capacity_kwh: float = Field(gt=0, le=MAX_QUANTITY, allow_inf_nan=False,
                                description="Usable energy of a full battery, kWh.",
                                examples=[20.0])
    initial: float = Field(1.0, ge=0, le=1, allow_inf_nan=False,
                           description="Charge of every vehicle at time 0, as a fraction of "
                                       "capacity; default 1 (full).", examples=[0.8])
    recharge_below: float = Field(
        gt=0, lt=1, allow_inf_nan=False,
        description="Threshold (fraction of capacity): at or below it a vehicle goes to a "
                    "charger after setting its unit down, or at once if idle. It must cover "
                    "the longest move plus the run to a charger (checked at load).",
        examples=[0.3])
    charge_to: float = Field(1.0, gt=0, le=1, allow_inf_nan=False,
                             description="Charge (fraction of capacity) at which charging "
                                         "stops; default 1 (full).", examples=[0.9])
    charge_kw: float = Field(gt=0, le=MAX_QUANTITY, allow_inf_nan=False,
                             description="Power a charger delivers to a vehicle, kW "
                                         "(constant until charge_to).", examples=[10.0])
    efficiency: float = Field(1.0, ge=0.01, le=1, allow_inf_nan=False,
                              description="Charger efficiency: grid energy = delivered / "
                                          "efficiency; default 1.", examples=[0.92])
    chargers: Chargers = Field(description=_CHARGERS_SCHEMA["description"],
                               examples=_CHARGERS_SCHEMA["examples"])
    opportunity: bool = Field(
        False, strict=True,
        description="Opportunity charging: an idle vehicle below charge_to goes to a free "
                    "charging place (never waits for one) and charges, and a move that finds "
                    "no idle vehicle takes the fullest vehicle charging this way, cutting its "
                    "charge short. Charges begun at or below recharge_below are never cut "
                    "short. true or false; default false.",
        examples=[True])

    @model_validator(mode="after")
    def _charge_above_threshold(self) -> "Battery":
        if self.charge_to <= self.recharge_below:
            raise ValueError(f"charge_to ({self.charge_to:g}) must be above recharge_below "
                             f"({self.recharge_below:g}): a vehicle would go back to the "
                             f"charger at once")
        return self


DIRECT = "direct"  # a route step's transport: passed on without a vehicle (no fleet's name)


class Fleet(Strict):
    """(extension) Identical vehicles (AGVs, AMRs, forklifts) that carry units between
    stations over the path network, up to `capacity` units per trip (default one)."""

    vehicles: int = Field(strict=True, ge=1, le=MAX_SERVERS, description="Number of vehicles.",
                          examples=[4])
    capacity: int = Field(
        1, strict=True, ge=1, le=MAX_SERVERS,
        description="(extension) Units a vehicle carries at once (a tray, a cart of rolls); "
                    "default 1. A trip takes every move waiting from one station to the same "
                    "next station, up to this many, and moves that become ready while the "
                    "vehicle drives to the pickup or loads there join it; each unit is loaded "
                    "and unloaded in turn (load_time, unload_time per unit).",
        examples=[12])
    load_wait: Duration = Field(
        0.0, ge=0.0,
        description="(extension) With capacity > 1: how long a vehicle waits at a pickup, "
                    "from its arrival there, for more units to join a load that is not full "
                    "before it leaves with what it has (state waiting); default 0 (it "
                    "leaves with the units ready).",
        examples=["10 min"])
    speed_loaded: Speed = Field(description="Metres per second when carrying a unit.",
                                examples=[1.2])
    speed_empty: Optional[Speed] = Field(
        None, description="Metres per second when empty; omitted = speed_loaded.", examples=[1.8])
    load_time: Distribution = Field(0.0, validate_default=True,
                                    description="Time to take a unit on board.",
                                    examples=["20 s"])
    unload_time: Distribution = Field(0.0, validate_default=True,
                                      description="Time to set a unit down.",
                                      examples=["20 s"])
    home: Name = Field(description="Point where the vehicles start.", examples=["depot"])
    power_kw: VehiclePower = Field(
        default_factory=VehiclePower, description="Power per vehicle in each state (kW).",
        examples=[{"moving_loaded": 1.5, "moving_empty": 1.0, "idle": 0.2}])
    battery: Optional[Battery] = Field(
        None, description="(extension) Traction battery and charging; omitted = the vehicles "
                          "never run out of energy (no charging modelled).",
        examples=[{"capacity_kwh": 20, "recharge_below": 0.3, "charge_to": 0.9,
                   "charge_kw": 10, "efficiency": 0.92, "chargers": {"depot": 2},
                   "opportunity": True}])

    @model_validator(mode="after")
    def _load_wait_needs_room(self) -> "Fleet":
        if self.load_wait > 0 and self.capacity == 1:
            raise ValueError("load_wait is how long a vehicle waits for more units to join its "
                             "load: it needs capacity above 1 (or leave load_wait out)")
        return self


Real = Annotated[float, Field(strict=True)]  # a number: an int or a float, not a boolean


class Floor(Strict):
    """(extension) A floor of the building: its elevation and the points that lie on it."""

    height: Real = Field(ge=-MAX_QUANTITY, le=MAX_QUANTITY, allow_inf_nan=False,
                          description="Elevation of the floor, metres (any reference, e.g. "
                                      "0 for the ground floor); lifts travel the differences.",
                          examples=[6.0])
    points: list[Name] = Field(min_length=1,
                               description="Points of logistics.points on this floor.",
                               examples=[["calender", "lift-east-1"]])


class LiftPower(Strict):
    """(extension) Power draw per lift car (kW) in each lift state; missing states draw 0."""

    moving_loaded: Real = Field(0.0, ge=0, le=MAX_QUANTITY, allow_inf_nan=False, examples=[11.0],
                                description="Travelling with a vehicle on board.")
    moving_empty: Real = Field(0.0, ge=0, le=MAX_QUANTITY, allow_inf_nan=False, examples=[7.5],
                               description="Travelling empty to the floor it was called to.")
    loading: Real = Field(0.0, ge=0, le=MAX_QUANTITY, allow_inf_nan=False, examples=[1.0],
                          description="A vehicle drives into the car.")
    unloading: Real = Field(0.0, ge=0, le=MAX_QUANTITY, allow_inf_nan=False, examples=[1.0],
                            description="A vehicle drives out of the car.")
    idle: Real = Field(0.0, ge=0, le=MAX_QUANTITY, allow_inf_nan=False, examples=[0.3],
                        description="Standing at a floor with no ride to make.")


_LIFT_POINTS_SCHEMA = {
    "description": "(extension) Where vehicles enter and leave the lift: {floor: point} "
                   "(logistics.floors, logistics.points), or a list of points, one per floor, "
                   "each on the floor logistics.floors puts it. At least two floors.",
    "anyOf": [{"type": "object", "minProperties": 2,
               "additionalProperties": {"type": "string", "minLength": 1}},
              {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 2,
               "uniqueItems": True}],
    "examples": [{"ground": "lift-east-0", "first": "lift-east-1"}, ["lift-0", "lift-1"]],
}
LiftPoints = Annotated[Union[dict[Name, Name], list[Name]], Field(min_length=2),
                       WithJsonSchema(_LIFT_POINTS_SCHEMA)]


class Lift(Strict):
    """(extension) A vertical lift joining floors (docs/modelling.md, Lifts): a vehicle that
    must change floors drives to the lift's point on its floor, waits for a car (first come,
    first served), drives in with its unit, rides, and drives out on the target floor."""

    points: LiftPoints = Field(description=_LIFT_POINTS_SCHEMA["description"],
                               examples=_LIFT_POINTS_SCHEMA["examples"])
    cars: int = Field(1, strict=True, ge=1, le=MAX_SERVERS,
                      description="Cars in parallel shafts, each serving every floor of the "
                                  "lift and carrying one vehicle at a time; default 1.",
                      examples=[2])
    speed: Annotated[Speed, Field(strict=True)] = Field(
        description="Vertical speed of a car, metres per second (constant; "
                                     "acceleration folded into it).", examples=[0.5])
    load_time: Distribution = Field(
        0.0, validate_default=True,
        description="Time for a vehicle to drive into the car (doors included); default 0.",
        examples=["8 s"])
    unload_time: Distribution = Field(
        0.0, validate_default=True,
        description="Time for a vehicle to drive out of the car; default 0.", examples=["8 s"])
    home: Optional[Name] = Field(
        None, description="Floor where every car stands at time 0; omitted = the lift's "
                          "first floor listed in `points`.", examples=["ground"])
    power_kw: LiftPower = Field(
        default_factory=LiftPower, description="Power per car in each lift state (kW).",
        examples=[{"moving_loaded": 11.0, "moving_empty": 7.5, "idle": 0.3}])


class ConveyorPower(Strict):
    """(extension) Power draw of a conveyor (kW) in each conveyor state; missing states draw 0."""

    moving: Real = Field(0.0, ge=0, le=MAX_QUANTITY, allow_inf_nan=False, examples=[1.5],
                         description="At least one unit aboard is moving.")
    stopped: Real = Field(0.0, ge=0, le=MAX_QUANTITY, allow_inf_nan=False, examples=[0.2],
                          description="Units aboard, none of them moving (all queued at the "
                                      "end, or the belt stopped).")
    empty: Real = Field(0.0, ge=0, le=MAX_QUANTITY, allow_inf_nan=False, examples=[0.0],
                        description="No unit aboard.")


class Conveyor(Strict):
    """(extension) A roller or belt conveyor that carries every move of any product from
    station `from` to station `to` (docs/modelling.md, Conveyors). It takes precedence over
    the direct hand-over and over the product's `transport` fleet for that move."""

    from_: Name = Field(alias="from", description="Station the units come from (any kind: "
                                                  "a batch station's units get on one by "
                                                  "one, a warehouse's cranes set retrieved "
                                                  "units on it).",
                        examples=["stack"])
    to: Name = Field(description="Station the units go to: the step after `from` on a "
                                 "route, or the target of a rework move from it (any kind: "
                                 "into a batch station's or a warehouse's buffer, or an "
                                 "assembly station's lane for the unit's part).",
                     examples=["weld"])
    length: Annotated[Speed, Field(strict=True)] = Field(
        description="Metres from the entry to the end (> 0).", examples=[24.0])
    speed: Annotated[Speed, Field(strict=True)] = Field(
        description="Metres per second of belt movement (> 0).", examples=[0.4])
    pitch: Annotated[Speed, Field(strict=True)] = Field(
        description="Metres between two units aboard (> 0, at most `length`); the conveyor "
                    "holds ceil(length / pitch) units and takes a unit every pitch / speed.",
        examples=[1.2])
    accumulating: bool = Field(
        True, strict=True,
        description="true (default): a unit waiting at the end holds only itself, the units "
                    "behind queue up at `pitch`; false: the whole conveyor stops while the "
                    "unit at its end cannot leave.", examples=[False])
    power_kw: ConveyorPower = Field(
        default_factory=ConveyorPower, description="Power in each conveyor state (kW).",
        examples=[{"moving": 1.5, "stopped": 0.2, "empty": 0.0}])

    @field_validator("pitch")
    @classmethod
    def _pitch_within_length(cls, pitch: float, info: ValidationInfo) -> float:
        length = info.data.get("length")  # (validated before the pitch, if valid)
        if length is not None and pitch > length:
            raise ValueError(f"pitch {pitch:g} m is longer than the conveyor ({length:g} m), "
                             f"so no unit fits on it; give a pitch of at most {length:g} m")
        return pitch


class Logistics(Strict):
    """(extension) The path network, its floors and lifts, the vehicle fleets that move
    units, and conveyors between stations."""

    points: dict[Name, Point] = Field(
        default_factory=dict,
        description="Named points of the network: [x, y] in metres (needed for fleets, "
                    "chargers, floors and lifts; conveyors alone need none).",
        examples=[{"depot": [0, 0], "coat": [20, 0], "calender": [20, 30]}])
    paths: list[Path] = Field(
        default_factory=list,
        description="Aisles between points: [from, to] (two-way, straight-line length, "
                    "unlimited) or {from, to, length, one_way, capacity}.",
        examples=[[["depot", "coat"], {"from": "coat", "to": "calender", "length": 35},
                   {"from": "calender", "to": "slit", "capacity": 1}]])
    fleets: dict[Name, Fleet] = Field(
        default_factory=dict, description="Vehicle fleets by name.",
        examples=[{"agv": {"vehicles": 4, "speed_loaded": 1.2, "speed_empty": 1.8,
                           "load_time": "20 s", "unload_time": "20 s", "home": "depot"}}])
    floors: dict[Name, Floor] = Field(
        default_factory=dict,
        description="(extension) Floors by name: {height: metres, points: [...]}. Omitted: "
                    "one floor. Given: every point lies on exactly one floor, paths stay on "
                    "their floor, and lifts join the floors.",
        examples=[{"ground": {"height": 0, "points": ["depot", "coat", "lift-0"]},
                   "first": {"height": 6, "points": ["calender", "lift-1"]}}])
    lifts: dict[Name, Lift] = Field(
        default_factory=dict,
        description="(extension) Lifts by name that carry vehicles (with their unit) "
                    "between floors.",
        examples=[{"lift-east": {"points": {"ground": "lift-0", "first": "lift-1"},
                                 "cars": 1, "speed": 0.5, "load_time": "8 s",
                                 "unload_time": "8 s"}}])
    conveyors: dict[Name, Conveyor] = Field(
        default_factory=dict,
        description="(extension) Conveyors by name, each carrying every move from one "
                    "station to the next (docs/modelling.md, Conveyors).",
        examples=[{"stack-to-weld": {"from": "stack", "to": "weld", "length": 24,
                                     "speed": 0.4, "pitch": 1.2, "accumulating": True,
                                     "power_kw": {"moving": 1.5, "stopped": 0.2}}}])


KeyPath = Annotated[str, Field(pattern=r"^[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-\[\]]+)+$")]


class Vary(Strict):
    """(extension) A sweep: a full factorial over key paths, and/or named variants.

    Each point is the scenario with `--set KEY.PATH=VALUE` overrides applied; with both,
    every variant is combined with every factorial combination.
    """

    factorial: dict[KeyPath, list[Any]] = Field(
        default_factory=dict,
        description="KEY.PATH -> list of values; every combination is a point.", examples=[{"stations.stack.servers": [4, 5, 6], "stations.fill.buffer": [10, 20]}])
    variants: dict[Name, dict[KeyPath, Any]] = Field(
        default_factory=dict,
        description="name -> {KEY.PATH: value}; each variant is a point.", examples=[{"stage-1": {"stations.formation.servers": 5}, "stage-2": {"stations.formation.servers": 7}}])

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
        None, description="(extension) Sweep: run every point with common random numbers.", examples=[{"factorial": {"stations.stack.servers": [4, 5]}}])
    logistics: Optional[Logistics] = Field(
        None, description="(extension) Path network, vehicle fleets and conveyors carrying "
                          "units.",
        examples=[{"points": {"depot": [0, 0], "a": [10, 0], "b": [10, 20]},
                   "paths": [["depot", "a"], ["a", "b"]],
                   "fleets": {"agv": {"vehicles": 2, "speed_loaded": 1.2, "home": "depot"}}}])
    initial_wip: dict[Name, dict[Name, InitialUnits]] = Field(
        default_factory=dict,
        description="(extension) Units in the factory at time 0 (e.g. a snapshot from the "
                    "MES): station -> product -> units waiting there for their step at that "
                    "station (the first on the product's route); the first ones go straight "
                    "onto its machines. At a warehouse the first ones are in store, dwelling "
                    "(as in a store filled at a steady rate, or `{units, remaining}`).",
        examples=[{"stack": {"cell-1175": 30, "cell-587": 10}, "formation": {"cell-1175": 4000}},
                  {"aging": {"cell-1175": {"units": 60000,
                                           "remaining": {"uniform": ["0 d", "21 d"]}}}}])
    calendars: dict[Name, CalendarSpec] = Field(
        default_factory=dict,
        description="(extension) Working calendars by name, for `stations.S.calendar`. The "
                    "run starts on a Monday at `energy.run_starts_at` (default 0 h).",
        examples=[{"two_shifts": {"shifts": [["6 h", "14 h"], ["14 h", "22 h"]],
                                  "days": ["mon", "tue", "wed", "thu", "fri"],
                                  "breaks": [["10 h", "10.5 h"], ["18 h", "18.5 h"]],
                                  "stops": [["20 d", "22 d"]]}}])
    energy: Optional[Energy] = Field(
        None, description="(extension) Facility loads, electricity tariff, heat price and "
                          "CO2 factors for the energy analysis.",
        examples=[{"facility": {"dry_rooms": {"kw": 800, "area": "assembly"}},
                   "tariff": {"0 h": 0.32, "8 h": 0.65}, "co2_kg_per_kwh": 0.537}])
