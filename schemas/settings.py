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

    # --- secrets, transport security, metrics exposure, data at rest (issue 17; docs/operations.md) ---
    dev_mode: bool = Field(False, description="a development run: the built-in development keys are accepted "
                           "(EXITWATCH_DEV_MODE=1 or --dev); never in production")
    kafka_security_protocol: str = Field("", description="PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL; empty: SSL "
                                         "when a CA or client certificate is set, SASL_SSL when a SASL mechanism is")
    kafka_ssl_cafile: str | None = Field(None, description="PEM file of the CA(s) that signed the brokers' certificates")
    kafka_ssl_certfile: str | None = Field(None, description="PEM client certificate (mutual TLS)")
    kafka_ssl_keyfile: str | None = Field(None, description="PEM private key of the client certificate")
    kafka_ssl_key_password: SecretStr | None = Field(None, description="password of that key, if encrypted")
    kafka_ssl_check_hostname: bool = Field(True, description="check the broker's certificate names its host")
    kafka_sasl_mechanism: str | None = Field(None, description="PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 or OAUTHBEARER")
    kafka_sasl_username: str | None = Field(None, description="SASL user (PLAIN, SCRAM)")
    kafka_sasl_password: SecretStr | None = Field(None, description="SASL password (PLAIN, SCRAM)")
    kafka_oauth_token_url: str | None = Field(None, description="OAUTHBEARER: OIDC token endpoint (client credentials)")
    kafka_oauth_client_id: str | None = Field(None, description="OAUTHBEARER: OIDC client id")
    kafka_oauth_client_secret: SecretStr | None = Field(None, description="OAUTHBEARER: OIDC client secret")
    kafka_oauth_scope: str | None = Field(None, description="OAUTHBEARER: scope to ask for (optional)")
    redis_username: str | None = Field(None, description="Redis ACL user (AUTH); a user in the URL wins")
    redis_password: SecretStr | None = Field(None, description="Redis password (AUTH); a password in the URL wins")
    redis_ssl_cafile: str | None = Field(None, description="PEM CA of the Redis server (needs a rediss:// URL)")
    redis_ssl_certfile: str | None = Field(None, description="PEM client certificate for Redis (mutual TLS)")
    redis_ssl_keyfile: str | None = Field(None, description="PEM private key of that certificate")
    redis_ssl_check_hostname: bool = Field(True, description="check the Redis certificate names its host")
    metrics_host: str = Field("127.0.0.1", description="address /metrics, /healthz, /readyz listen on "
                              "(0.0.0.0: every interface, e.g. inside a container)")
    metrics_token: SecretStr | None = Field(None, description="bearer token that /metrics, /healthz, /readyz "
                                            "require (401 without it); none: open to whoever reaches the address")
    data_key: SecretStr = Field(SecretStr("change-me-exitwatch-data-key"), description="key of the AES-256-GCM "
                                "encryption of identifying free text (file names, subjects, recipients) in the "
                                "worker's state and changelog; set your own in production")
    retention_days: int = Field(0, description="purge an employee's state and Redis HR record and aliases this many "
                                "days after their last working day (0: keep)")
    data_key_previous: SecretStr | None = Field(None, description="the data key before a rotation: values sealed "
                                                "with it are still read, and sealed again with EXITWATCH_DATA_KEY "
                                                "when they next change")

    # input guard (schemas/guard.py; connectors, replay and the worker)
    max_record_bytes: int = Field(1 << 20, description="largest record (line, message) read; larger ones are "
                                  "dead-lettered as too_large")
    max_json_depth: int = Field(32, description="deepest nesting of a record's JSON (attrs) before too_deep")
    max_future_skew_s: float = Field(3600.0, description="how far ahead of the processing clock (worker, "
                                     "connectors) or of the inputs' own span (replay) a record's ts may lie; "
                                     "later ones are dead-lettered as ts_out_of_window")
    replay_span_gap_days: int = Field(30, description="replay: days without records that end the inputs' span "
                                      "(a lone record far after the span is out of its window)")
    replay_max_unknown_employees: int = Field(10000, description="replay: employee ids not in the HR files that "
                                              "get detection state; events of further ones are dead-lettered")
    host_timezones: dict[str, str] = Field(default_factory=dict, description="connectors: IANA time zone per host "
                                           "(name or glob, e.g. {\"NYC-*\": \"America/New_York\"}) for sources "
                                           "whose records carry local times without an offset")

    # -- departure propensity, offboarding and presets (issue 18)
    propensity_level: float = Field(0.25, description="probability of a notice within 90 days at which "
                                    "hr.departure_propensity alerts (alerts.hr only)")
    preset: str | None = Field(None, description="industry pack of rule settings and classification: "
                               "manufacturing, sales, tech or finance (detectors/presets/)")

    # evidence and pseudonyms (issue 17)
    evidence_signing_key: SecretStr = Field(
        SecretStr(""), description="Ed25519 seed (64 hex digits) that signs the evidence ledger and case bundles; "
        "empty: a development key anyone can compute (`exitwatch evidence keygen` makes one)")
    evidence_public_key: str = Field(
        "", description="Ed25519 public key (64 hex digits) a case bundle must be signed with; empty: the public "
        "half of evidence_signing_key. Set it where bundles are verified")
    secops_k: int = Field(5, ge=1, description="k of the k-anonymity of the HR fields left in alerts.secops: "
                          "a group smaller than k is coarsened, then dropped")
    audit_log: str = Field("var/audit.jsonl", description="file the audit trail (re-identification, case "
                           "export, rule changes) is appended to; also sent to the audit topic when "
                           "audit_kafka is on")
    audit_kafka: bool = Field(False, description="also send audit records to the audit topic")
    operator: str = Field("", description="who runs the command, for the audit trail (default: the OS user)")
    # --- transactional worker engine (streams/tx, `exitwatch worker`) ---
    tx_idle_ms: float = Field(0.0, ge=0, description="how long after its arrival a record waits in the "
                              "time-ordered merge for an input partition that has nothing buffered and no known "
                              "backlog (a partition with records on the broker not fetched yet is always waited "
                              "for); every live alert pays it. 0 (the default, as Kafka Streams' "
                              "max.task.idle.ms) waits only for records known to be there; a few ms more let "
                              "records produced at the same moment on other partitions catch up (see "
                              "reports/benchmarks/s10-perf)")
    tx_batch: int = Field(2000, description="records the transactional worker consumes and merges at a time")
    tx_interval_ms: float = Field(100.0, description="the transactional worker commits its open transaction "
                                  "(outputs, state changes, offsets) at least this often")
    # --- fault tolerance of the transactional worker (streams/tx/txn.py, streams/tx/resume.py; issue 15) ---
    tx_call_timeout_s: float = Field(15.0, gt=0, description="timeout of each Kafka transaction call (init, "
                                     "begin, send offsets, commit, abort); a call still blocked 5 s after it is "
                                     "given up as hung: the producer is abandoned, a new one fences it, and the "
                                     "worker resumes from the last committed state")

    # -- departure propensity: the level relative to the company (issue 18, i-prop)
    propensity_stayer_rate: float = Field(0.006, ge=0, lt=1, description="share of the employees who stay that "
                                          "hr.departure_propensity may flag in four weeks: its level is that "
                                          "quantile of the company's own stayers (learned online; "
                                          "EXITWATCH_PROPENSITY_LEVEL until known, and always when 0)")
    watermark_lateness_s: float = Field(3600.0, ge=0, description="Faust worker: how far behind the latest record "
                                        "time of a partition its event-time watermark stays (records of the "
                                        "detect stage's topics arrive out of time order by up to this); the "
                                        "default worker merges its inputs in time and needs none")
    # --- speed and memory of the transactional worker (streams/tx/store.py; issue 15) ---
    tx_state_cache: int = Field(5000, ge=1, description="decoded employee states the transactional worker "
                                "keeps in memory (about 26 KB each at 100,000 employees, measured; 20,000 before: "
                                "2.7 GB at 100,000 employees); the committed states of every other employee wait "
                                "in a local file under data_dir. Below the number of employees active in a day, an "
                                "event may pay a decode of its employee's state (measured: a few % of its time)")
    # --- the garbage collector of every exitwatch process (exitwatch/runtime.py; issue 15, s6-perf) ---
    gc_gen0: int = Field(50_000, ge=0, description="allocations between two collections of Python's youngest "
                         "generation (Python's default 700; 0 leaves the interpreter's setting): detection state is "
                         "many small dicts and lists freed by reference counting, and at 700 the collector took a "
                         "fifth of the worker's time walking them")
    # --- event -> alert latency of the transactional worker (streams/tx/trace.py; issue 15, s9-latency) ---
    tx_trace_prefix: str = Field("", description="events whose event_id starts with this are traced through the "
                                 "transactional worker: one log line each (logger exitwatch.tx.trace) with the "
                                 "times it was produced, consumed, released by the time-ordered merge, processed "
                                 "and committed; empty: off. `exitwatch bench` sets it for its latency probes")
    tx_commit_min_ms: float = Field(0.0, ge=0, description="the transactional worker commits as soon as it has "
                                    "processed everything at hand (its outputs are visible to read_committed "
                                    "readers only then), but not sooner than this after its transaction began; "
                                    "0: at once. Raise it to trade latency for fewer transactions under a steady "
                                    "feed (tx_interval_ms still bounds how long one stays open)")
