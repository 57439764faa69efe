"""The validated spec of one environment, as frozen data classes (what rendering and deploying read).

Throttle and Quota are API Gateway's own shapes; the local API reads them from templates too.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Network:
    vpc_cidr: str
    az_count: int
    flow_logs: bool
    availability_zones: tuple[str, ...] = ()  # AZ IDs (use1-az1, ...), one per subnet; () = the region's first ones


@dataclass(frozen=True)
class Autoscaling:
    max_read_capacity: int
    max_write_capacity: int
    target_utilization: int


@dataclass(frozen=True)
class Ttl:
    attribute: str
    days: int


@dataclass(frozen=True)
class Table:
    read_capacity: int
    write_capacity: int
    ttl: Ttl
    point_in_time_recovery: bool
    deletion_protection: bool
    retain_on_delete: bool
    autoscaling: Autoscaling | None = None
    partition_key: str = "id"  # the handler's contract, not a setting


@dataclass(frozen=True)
class Function:
    runtime: str
    architecture: str
    memory_mb: int
    timeout_seconds: int
    reserved_concurrency: int
    log_level: str
    max_body_bytes: int


@dataclass(frozen=True)
class Throttle:
    rate_limit: float
    burst_limit: int


@dataclass(frozen=True)
class Quota:
    limit: int
    period: str  # DAY | WEEK | MONTH
    offset: int = 0  # the day the period starts on (API Gateway's Quota.Offset); the spec leaves it 0


@dataclass(frozen=True)
class Cors:
    allow_origins: tuple[str, ...]
    allow_methods: tuple[str, ...]
    allow_headers: tuple[str, ...]
    max_age_seconds: int


@dataclass(frozen=True)
class Route:
    path: str
    methods: tuple[str, ...]
    scopes: tuple[str, ...] = ()  # cognito mode: OAuth scopes, any one of which a token needs


@dataclass(frozen=True)
class Auth:
    """Who may call the API beside holding its key: `none`, `cognito` or `iam`."""

    mode: str = "none"
    user_pool_arn: str | None = None  # cognito: an existing pool; None = the stack's own pool
    principals: tuple[str, ...] = ()  # iam: the principals granted execute-api:Invoke

    @property
    def own_pool(self) -> bool:
        return self.mode == "cognito" and self.user_pool_arn is None


@dataclass(frozen=True)
class Domain:
    name: str
    hosted_zone_id: str


@dataclass(frozen=True)
class Api:
    stage: str
    throttle: Throttle
    cors: Cors
    routes: tuple[Route, ...]
    logging_level: str
    caching: bool
    waf: bool
    quota: Quota | None = None
    auth: Auth = Auth()
    domain: Domain | None = None


@dataclass(frozen=True)
class Logs:
    retention_days: int
    execution_data_trace: bool


@dataclass(frozen=True)
class Evaluation:
    period_seconds: int
    evaluation_periods: int  # N
    datapoints_to_alarm: int  # M of N


@dataclass(frozen=True)
class Thresholds:
    function_errors_percent: float
    function_throttles: int
    api_5xx_rate: float  # 0-1: the Average of 5XXError
    api_latency_p99_ms: int
    concurrency_percent: int  # of function.reserved_concurrency
    table_throttles: int


@dataclass(frozen=True)
class Notify:
    emails: tuple[str, ...]
    https: tuple[str, ...]


@dataclass(frozen=True)
class Alarms:
    enabled: bool
    dashboard: bool
    monitoring_minutes: int
    evaluation: Evaluation
    thresholds: Thresholds
    notify: Notify


def alarms_enabled(data: dict[str, Any]) -> bool:
    """alarms.enabled of merged spec data; left out, on where environment_tag is `production`."""
    return data["alarms"].get("enabled", data.get("environment_tag") == "production")


@dataclass(frozen=True)
class Spec:
    env: str
    service: str
    region: str
    protected: bool
    environment_tag: str
    network: Network
    table: Table
    function: Function
    api: Api
    logs: Logs
    alarms: Alarms
    tags: tuple[tuple[str, str], ...]  # sorted by key; `Environment` is added by the templates
    description: str = ""
    account_id: str | None = None
    files: tuple[str, ...] = ()

    @property
    def stack_name(self) -> str:
        return f"{self.service}-{self.env}"

    @property
    def all_tags(self) -> tuple[tuple[str, str], ...]:
        """Every tag the stack and its resources carry, `Environment` first."""
        return (("Environment", self.environment_tag),) + self.tags


def path_prefixes(path: str) -> list[str]:
    """`/a/{b}/c` -> [`/a`, `/a/{b}`, `/a/{b}/c`]: every resource API Gateway needs for the path."""
    parts = path.strip("/").split("/")
    return ["/" + "/".join(parts[: i + 1]) for i in range(len(parts))]


def path_name(path: str) -> str:
    """The CamelCase name of a resource path in logical ids: `/items/{id}` -> `ItemsId`."""
    words = re.split(r"[^A-Za-z0-9]+", path)
    return "".join(w[:1].upper() + w[1:] for w in words if w)


def from_data(env: str, data: dict[str, Any], files: list[str]) -> Spec:
    """Build the data classes from merged data that already passed the schema."""
    t, f, a, n, lg, al = data["table"], data["function"], data["api"], data["network"], data["logs"], data["alarms"]
    return Spec(
        env=env,
        service=data["service"],
        region=data["region"],
        protected=data["protected"],
        environment_tag=data.get("environment_tag", env),
        description=data.get("description", ""),
        account_id=data.get("account_id"),
        network=Network(vpc_cidr=n["vpc_cidr"], az_count=n["az_count"], flow_logs=n["flow_logs"],
                        availability_zones=tuple(n.get("availability_zones", ()))),
        table=Table(
            read_capacity=t["read_capacity"], write_capacity=t["write_capacity"], ttl=Ttl(**t["ttl"]),
            point_in_time_recovery=t["point_in_time_recovery"], deletion_protection=t["deletion_protection"],
            retain_on_delete=t["retain_on_delete"],
            autoscaling=Autoscaling(**t["autoscaling"]) if t.get("autoscaling") else None,
        ),
        function=Function(**f),
        api=Api(
            stage=a["stage"], throttle=Throttle(**a["throttle"]),
            cors=Cors(tuple(a["cors"]["allow_origins"]), tuple(a["cors"]["allow_methods"]),
                      tuple(a["cors"]["allow_headers"]), a["cors"]["max_age_seconds"]),
            routes=tuple(Route(r["path"], tuple(r["methods"]), tuple(r.get("scopes", ()))) for r in a["routes"]),
            logging_level=a["logging_level"], caching=a["caching"], waf=a["waf"],
            quota=Quota(**a["quota"]) if a.get("quota") else None,
            auth=Auth(mode=a["auth"]["mode"], user_pool_arn=a["auth"].get("user_pool_arn"),
                      principals=tuple(a["auth"].get("principals", ()))) if "auth" in a else Auth(),
            domain=Domain(**a["domain"]) if a.get("domain") else None,
        ),
        logs=Logs(**lg),
        alarms=Alarms(
            enabled=alarms_enabled(data), dashboard=al["dashboard"], monitoring_minutes=al["monitoring_minutes"],
            evaluation=Evaluation(**al["evaluation"]), thresholds=Thresholds(**al["thresholds"]),
            notify=Notify(tuple(al["notify"]["emails"]), tuple(al["notify"]["https"])),
        ),
        tags=tuple(sorted((str(k), str(v)) for k, v in data["tags"].items())),
        files=tuple(files),
    )
