"""All settings of exitwatch in one pydantic-settings class; every one has a documented default.

Each field can be set from the environment with the ``EXITWATCH_`` prefix, for example
``EXITWATCH_KAFKA_BOOTSTRAP=localhost:9092``. ``KAFKA_BOOTSTRAP`` and ``REDIS_URL`` (as CI sets them) are
read too.

>>> Settings(kafka_bootstrap="127.0.0.1:9999").kafka_bootstrap
'127.0.0.1:9999'
"""

from __future__ import annotations

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EXITWATCH_", extra="ignore")

    kafka_bootstrap: str = Field(
        "127.0.0.1:9092",
        validation_alias=AliasChoices("EXITWATCH_KAFKA_BOOTSTRAP", "KAFKA_BOOTSTRAP"),
        description="Kafka bootstrap servers, host:port[,host:port]",
    )
    redis_url: str = Field(
        "redis://127.0.0.1:6379/0",
        validation_alias=AliasChoices("EXITWATCH_REDIS_URL", "REDIS_URL"),
        description="Redis holding HR status and account aliases",
    )
    topic_prefix: str = Field("", description="put in front of every topic name")
    app_id: str = Field("exitwatch", description="Faust application id = consumer group")
    pseudonym_key: SecretStr = Field(
        SecretStr("change-me-exitwatch-pseudonym-key"),
        description="HMAC key for the pseudonyms in alerts.secops; set your own in production",
    )
    rules_config: str | None = Field(None, description="YAML/JSON/TOML file that overrides rule thresholds")
    classification_config: str | None = Field(None, description="file with company and personal domains")
    lookback_days: int = Field(90, description="how far back an HR change re-evaluates windows")
    hr_cache_ttl_s: float = Field(30.0, description="how long the worker trusts an HR entry cached in process")
    metrics_port: int = Field(9108, description="port of /metrics, /healthz, /readyz (0 = off)")
    data_dir: str = Field("var/worker", description="worker state folder (RocksDB tables)")
    store: str = Field("rocksdb://", description="Faust table store: rocksdb:// or memory://")
    partitions: int = Field(4, description="partitions of the topics the worker creates")
    web_port: int = Field(6066, description="Faust web port of the worker")
    model_checkpoint_s: float = Field(60.0, description="seconds between checkpoints of the shared model state")
    models: bool = Field(True, description="run the learned models besides the rules (off: rules only, as "
                         "`exitwatch replay --no-models`)")
    detect_inline: bool = Field(True, description="detect in the agent that enriches, for every event on its "
                                "employee's partition (one pass through Faust); off: every event goes through "
                                "activity.enriched to the detect agent (two passes)")
