"""Transport security against a real broker and Redis: TLS and SASL/SCRAM for Kafka, AUTH and TLS for Redis.

The module starts its own Kafka broker (``ops/kafka/kafka.sh start --tls-dir ... --ssl-port ... --sasl-port
...``) and its own ``redis-server --tls-port`` on spare ports, with a CA and server certificate made here
(``cryptography``), and talks to them only through the settings: :func:`schemas.transport.kafka_config`
(confluent-kafka), :func:`schemas.transport.faust_broker_options` (what the Faust worker's aiokafka clients
get) and :func:`schemas.transport.redis_kwargs` (redis-py, sync and asyncio, as ``streams.hrstore``). It also
checks the doors are shut: a plaintext client, an unknown CA and a wrong password are all refused.

Outside CI a machine without Java, the Kafka jars or a TLS-capable ``redis-server`` skips it; in CI
(``CI=true``) that is a failure.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from schemas.settings import Settings
from schemas.transport import faust_broker_options, kafka_config, redis_client, redis_kwargs

ROOT = Path(__file__).resolve().parents[2]
USER, PASSWORD = "exitwatch-worker", "scram-" + uuid.uuid4().hex
REDIS_PASSWORD = "redis-" + uuid.uuid4().hex


def _unavailable(why: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{why}; in CI the TLS test must run", pytrace=False)
    pytest.skip(why)


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def make_certs(d: Path, name: str = "exitwatch test") -> dict[str, Path]:
    """A CA and a server certificate for localhost / 127.0.0.1 (RSA 2048, one day) as PEM files in ``d``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.timezone.utc)

    def cert(subject: str, key: Any, issuer: str, signer: Any, ca: bool) -> Any:
        b = (x509.CertificateBuilder()
             .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
             .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
             .public_key(key.public_key()).serial_number(x509.random_serial_number())
             .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
             .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
        if ca:
            b = b.add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                              content_commitment=False, key_encipherment=False,
                                              data_encipherment=False, key_agreement=False, encipher_only=False,
                                              decipher_only=False), critical=True)
        else:
            b = b.add_extension(x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        return b.sign(signer, hashes.SHA256())

    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca = cert(f"{name} CA", ca_key, f"{name} CA", ca_key, True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    srv = cert("localhost", key, f"{name} CA", ca_key, False)
    pem = serialization.Encoding.PEM
    key_pem = key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    files = {"ca": d / "ca.pem", "cert": d / "server.crt", "key": d / "server.key", "bundle": d / "server.pem"}
    files["ca"].write_bytes(ca.public_bytes(pem))
    files["cert"].write_bytes(srv.public_bytes(pem))
    files["key"].write_bytes(key_pem)
    files["bundle"].write_bytes(key_pem + srv.public_bytes(pem) + ca.public_bytes(pem))  # Kafka's PEM keystore
    return files


@pytest.fixture(scope="module")
def tls_services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A TLS + SCRAM broker and a TLS + AUTH Redis of this module's own, stopped at the end."""
    if shutil.which("java") is None:
        _unavailable("java not found (the TLS broker needs Java 17)")
    redis_server = shutil.which("redis-server")
    if redis_server is None:
        _unavailable("redis-server not found")
    d = tmp_path_factory.mktemp("tls")
    certs = make_certs(d)
    (d / "other").mkdir()
    other = make_certs(d / "other", "someone else")  # a CA that signed nothing of ours
    port, cport, ssl_port, sasl_port, redis_port = _free_ports(5)
    kafka_data = d / "kafka"
    env = {**os.environ, "KAFKA_HEAP_OPTS": os.environ.get("KAFKA_HEAP_OPTS", "-Xms128m -Xmx384m")}
    kafka_cmd = ["bash", str(ROOT / "ops/kafka/kafka.sh")]
    started = subprocess.run([*kafka_cmd, "start", "--port", str(port), "--controller-port", str(cport),
                              "--data", str(kafka_data), "--tls-dir", str(d), "--ssl-port", str(ssl_port),
                              "--sasl-port", str(sasl_port), "--scram-user", f"{USER}:{PASSWORD}"],
                             env=env, capture_output=True, text=True, timeout=180)
    if started.returncode != 0:
        subprocess.run([*kafka_cmd, "stop", "--data", str(kafka_data)], env=env, capture_output=True, timeout=60)
        _unavailable(f"TLS broker did not start: {started.stderr[-2000:]}")
    redis_dir = d / "redis"
    redis_dir.mkdir()
    r = subprocess.run([redis_server, "--port", "0", "--bind", "127.0.0.1", "--tls-port", str(redis_port),
                        "--tls-cert-file", str(certs["cert"]), "--tls-key-file", str(certs["key"]),
                        "--tls-ca-cert-file", str(certs["ca"]), "--tls-auth-clients", "no",
                        "--requirepass", REDIS_PASSWORD, "--daemonize", "yes", "--pidfile", str(redis_dir / "pid"),
                        "--logfile", str(redis_dir / "log"), "--dir", str(redis_dir), "--save", ""],
                       capture_output=True, text=True, timeout=30)
    try:
        if r.returncode != 0:
            _unavailable(f"redis-server --tls-port failed: {r.stdout}{r.stderr}")
        for _ in range(100):
            if (redis_dir / "pid").exists() and socket.socket().connect_ex(("127.0.0.1", redis_port)) == 0:
                break
            time.sleep(0.1)
        else:
            _unavailable(f"redis-server with TLS did not listen: {(redis_dir / 'log').read_text()[-2000:]}")
        yield {"dir": d, "ssl": f"127.0.0.1:{ssl_port}", "sasl": f"127.0.0.1:{sasl_port}", "plain": f"127.0.0.1:{port}",
               "redis": f"rediss://127.0.0.1:{redis_port}/0", "redis_port": redis_port, "certs": certs,
               "other_ca": other["ca"]}
    finally:
        if (redis_dir / "pid").exists():
            try:
                os.kill(int((redis_dir / "pid").read_text()), 15)
            except (ProcessLookupError, ValueError):
                pass
        subprocess.run([*kafka_cmd, "stop", "--data", str(kafka_data)], env=env, capture_output=True, timeout=60)


def _roundtrip(s: Settings, topic: str, n: int = 20) -> list[bytes]:
    """Create ``topic``, produce ``n`` records and read them back, every client built by kafka_config(s)."""
    from confluent_kafka import Consumer, Producer
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient(kafka_config(s))
    admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])[topic].result(30)
    p = Producer(kafka_config(s, **{"acks": "all", "enable.idempotence": True}))
    for i in range(n):
        p.produce(topic, key=b"E%05d" % i, value=b"record %d" % i)
    assert p.flush(30) == 0
    c = Consumer(kafka_config(s, **{"group.id": f"g-{uuid.uuid4().hex[:8]}", "auto.offset.reset": "earliest",
                                    "enable.auto.commit": False}))
    c.subscribe([topic])
    got: list[bytes] = []
    deadline = time.monotonic() + 60
    while len(got) < n and time.monotonic() < deadline:
        m = c.poll(1.0)
        if m is not None and not m.error():
            got.append(m.value())
    c.close()
    return got


def _refused(conf: dict[str, Any]) -> bool:
    """True when a metadata request with ``conf`` gets no broker list (handshake or authentication refused)."""
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient

    try:
        md = AdminClient({**conf, "log_level": 0}).list_topics(timeout=6)
    except KafkaException:
        return True
    return not md.brokers


def test_kafka_and_redis_over_tls(tls_services: dict[str, Any]) -> None:
    certs = tls_services["certs"]
    tls = Settings(kafka_bootstrap=tls_services["ssl"], kafka_ssl_cafile=str(certs["ca"]), dev_mode=False)
    assert kafka_config(tls)["security.protocol"] == "SSL"
    want = [b"record %d" % i for i in range(20)]
    assert _roundtrip(tls, f"tls.{uuid.uuid4().hex[:8]}") == want

    # SASL_SSL with SCRAM (both) and PLAIN, the password from the settings only.
    for mech in ("SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN"):
        scram = Settings(kafka_bootstrap=tls_services["sasl"], kafka_ssl_cafile=str(certs["ca"]),
                         kafka_sasl_mechanism=mech, kafka_sasl_username=USER, kafka_sasl_password=PASSWORD)
        assert kafka_config(scram)["security.protocol"] == "SASL_SSL"
        assert _roundtrip(scram, f"scram.{uuid.uuid4().hex[:8]}") == want

    # The doors that must stay shut: plaintext to the TLS port, a CA that did not sign the broker, a wrong
    # SCRAM password, and hostname checking (on by default: the certificate names 127.0.0.1, so it passes).
    assert _refused({"bootstrap.servers": tls_services["ssl"], "socket.timeout.ms": 3000})
    assert _refused(kafka_config(tls.model_copy(update={"kafka_ssl_cafile": str(tls_services["other_ca"])})))
    bad = Settings(kafka_bootstrap=tls_services["sasl"], kafka_ssl_cafile=str(certs["ca"]),
                   kafka_sasl_mechanism="SCRAM-SHA-256", kafka_sasl_username=USER, kafka_sasl_password="wrong")
    assert _refused(kafka_config(bad))

    # The Faust worker's clients (aiokafka) with the same settings, as faust.App(broker_credentials=...) maps them.
    async def aiokafka_roundtrip(s: Settings, topic: str) -> list[bytes]:
        from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
        from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth

        auth = credentials_to_aiokafka_auth(faust_broker_options(s)["broker_credentials"])
        prod = AIOKafkaProducer(bootstrap_servers=s.kafka_bootstrap, **auth)
        await prod.start()
        try:
            for i in range(5):
                await prod.send_and_wait(topic, b"faust %d" % i)
        finally:
            await prod.stop()
        cons = AIOKafkaConsumer(topic, bootstrap_servers=s.kafka_bootstrap, auto_offset_reset="earliest",
                                group_id=f"g-{uuid.uuid4().hex[:8]}", **auth)
        await cons.start()
        try:
            got = []
            while len(got) < 5:
                batch = await asyncio.wait_for(cons.getmany(timeout_ms=1000), 60)
                got += [m.value for msgs in batch.values() for m in msgs]
            return got
        finally:
            await cons.stop()

    scram512 = Settings(kafka_bootstrap=tls_services["sasl"], kafka_ssl_cafile=str(certs["ca"]),
                        kafka_sasl_mechanism="SCRAM-SHA-512", kafka_sasl_username=USER, kafka_sasl_password=PASSWORD)
    for s in (tls, scram512):
        got = asyncio.run(aiokafka_roundtrip(s, f"faust.{uuid.uuid4().hex[:8]}"))  # auto-created: 4 partitions
        assert sorted(got) == [b"faust %d" % i for i in range(5)]

    # Redis: TLS + AUTH through redis_kwargs, sync (bench, faults) and asyncio (the worker's HR store).
    rs = Settings(redis_url=tls_services["redis"], redis_password=REDIS_PASSWORD, redis_ssl_cafile=str(certs["ca"]))
    r = redis_client(rs)
    r.set("tls-check", b"yes")
    assert r.get("tls-check") == b"yes"
    r.close()

    async def hrstore_roundtrip() -> Any:
        from schemas import HRRecord
        from streams.hrstore import HRStore

        store = HRStore(rs.redis_url, prefix="tls.", redis_options=redis_kwargs(rs))
        rec = HRRecord.model_validate({"employee_id": "E00042", "ts": "2026-03-02T09:00:00Z", "status": "notice",
                                       "accounts": ["ann@corp.example"], "last_day": "2026-03-31"})
        try:
            assert await store.put(rec)
            store._hr.clear()
            store._alias.clear()  # read back from Redis, not from the in-process cache
            return await store.resolve_many({"ann@corp.example"}), await store.snapshots({"E00042"})
        finally:
            await store.close()

    aliases, snaps = asyncio.run(hrstore_roundtrip())
    assert aliases == {"ann@corp.example": "E00042"}
    assert snaps["E00042"][0]["status"] == "notice"

    import redis as redis_lib

    with pytest.raises(redis_lib.RedisError):  # plaintext to the TLS port
        redis_lib.Redis(host="127.0.0.1", port=tls_services["redis_port"], password=REDIS_PASSWORD,
                        socket_timeout=3, socket_connect_timeout=3).ping()
    with pytest.raises(redis_lib.AuthenticationError):  # TLS, but the wrong password
        redis_client(rs.model_copy(update={"redis_password": "wrong"})).ping()

    # End to end with nothing but the environment: the connectors and the default worker over SCRAM-SHA-256 and
    # TLS, the worker's HR store over TLS with AUTH. The enriched events carry the HR status the worker stored
    # in Redis and read back, so every hop went through the secured transports.
    prefix = f"tls{uuid.uuid4().hex[:6]}."
    sec = {"EXITWATCH_KAFKA_BOOTSTRAP": tls_services["sasl"], "KAFKA_BOOTSTRAP": tls_services["sasl"],
           "EXITWATCH_KAFKA_SSL_CAFILE": str(certs["ca"]), "EXITWATCH_KAFKA_SASL_MECHANISM": "SCRAM-SHA-256",
           "EXITWATCH_KAFKA_SASL_USERNAME": USER, "EXITWATCH_KAFKA_SASL_PASSWORD": PASSWORD,
           "EXITWATCH_REDIS_URL": tls_services["redis"], "REDIS_URL": tls_services["redis"],
           "EXITWATCH_REDIS_PASSWORD": REDIS_PASSWORD, "EXITWATCH_REDIS_SSL_CAFILE": str(certs["ca"])}
    env = {**os.environ, **sec, "PYTHONPATH": str(ROOT)}
    work = tls_services["dir"] / prefix
    work.mkdir()
    hr = work / "hr.jsonl"
    hr.write_text(json.dumps({"employee_id": "E4242", "ts": "2026-03-01T09:00:00Z", "status": "notice",
                              "last_day": "2026-03-31", "accounts": ["tls.user@corp.example"]}) + "\n")
    events = work / "events.jsonl"
    events.write_text("".join(json.dumps({
        "event_id": f"tls-{i}", "ts": f"2026-03-{10 + i:02d}T10:00:00Z", "kind": "file", "action": "download",
        "actor": "tls.user@corp.example", "source": "synthetic", "object": f"/x/{i}.pdf"}) + "\n" for i in range(5)))
    cli = [sys.executable, "-m", "exitwatch.cli"]
    log = work / "worker.log"
    worker = subprocess.Popen([*cli, "worker", "--topic-prefix", prefix, "--app-id", f"{prefix}w", "--data-dir",
                               str(work / "state"), "--metrics-port", "0"], cwd=ROOT, env=env,
                              stdout=log.open("wb"), stderr=subprocess.STDOUT)
    try:
        for args in (["hr", str(hr)], ["synthetic", str(events), "--hr", str(hr)]):
            p = subprocess.run([*cli, "connect", *args, "--topic-prefix", prefix], cwd=ROOT, env=env,
                               capture_output=True, text=True, timeout=120)
            assert p.returncode == 0, p.stderr
        from confluent_kafka import Consumer

        scram256 = Settings(**{k.removeprefix("EXITWATCH_").lower(): v for k, v in sec.items()
                               if k.startswith("EXITWATCH_KAFKA")})
        c = Consumer(kafka_config(scram256, **{"group.id": f"g-{uuid.uuid4().hex[:8]}",
                                               "auto.offset.reset": "earliest"}))
        c.subscribe([f"{prefix}activity.enriched"])
        got: list[dict[str, Any]] = []
        deadline = time.monotonic() + 120
        while len(got) < 5 and time.monotonic() < deadline and worker.poll() is None:
            m = c.poll(1.0)
            if m is not None and not m.error():
                got.append(json.loads(m.value()))
        c.close()
        assert len(got) == 5, log.read_text()[-3000:]
        assert {(e["employee_id"], (e.get("employee") or {}).get("status")) for e in got} == {("E4242", "notice")}
        r = redis_client(rs)  # the worker wrote the HR record and alias to Redis over TLS with the password
        assert r.get(f"{prefix}alias:tls.user@corp.example") == b"E4242" and r.exists(f"{prefix}hr:E4242")
        r.close()
    finally:
        worker.terminate()
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
