"""``exitwatch evaluate-cert`` end to end on a tiny CERT-shaped data set written here (no CERT rows), and its
clean skip when the local copy is absent."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from exitwatch.cert_eval import available, evaluate_cert
from exitwatch.cli import main

USERS = [("Ann Lee Ames", "ALA0001", ""), ("Bob Kit Best", "BKB0002", "Ann Lee Ames"),
         ("Cy Dee Cole", "CDC0003", "Ann Lee Ames")]


def _tiny_cert(root: Path) -> None:
    """Three users, January to March 2010: a week of daytime logons each as the heads; CDC0003 leaves during
    March after a night logon, a thumb drive and a leak site (scenario 1's shape)."""
    r = root / "r4.2"
    (r / "LDAP").mkdir(parents=True)
    hdr = "employee_name,user_id,email,role,business_unit,functional_unit,department,team,supervisor\n"
    for m, users in (("2010-01", USERS), ("2010-02", USERS), ("2010-03", USERS[:2])):
        (r / "LDAP" / f"{m}.csv").write_text(hdr + "".join(
            f"{n},{u},{n.replace(' ', '.')}@dtaa.com,Engineer,1,2 - R,3 - S,4 - T,{s}\n" for n, u, s in users))
    logon = ["id,date,user,pc,activity"]
    for i in range(7):
        d = dt.date(2010, 1, 4) + dt.timedelta(days=i)
        if d.weekday() >= 5:
            continue
        for k, (_, u, _) in enumerate(USERS):
            logon.append(f"{{L{i}{k}A}},{d:%m/%d/%Y} 08:0{k}:00,DTAA/{u},PC-{k},Logon")
            logon.append(f"{{L{i}{k}B}},{d:%m/%d/%Y} 17:0{k}:00,DTAA/{u},PC-{k},Logoff")
    # the heads end mid-row, as the public copies do
    (r / "logon.csv").write_text("\n".join(logon) + "\n{L99},01/11/2010 16:20:00,DTAA/ALA0001,PC-0,Logo")
    (r / "device.csv").write_text("id,date,user,pc,activity\n{D1},01/05/2010 10:00:00,DTAA/ALA0001,PC-0,Connect\n")
    (r / "file.csv").write_text("id,date,user,pc,filename,content\n{F1},01/05/2010 10:01:00,DTAA/ALA0001,PC-0,a.doc,x\n")
    (r / "email.csv").write_text("id,date,user,pc,to,cc,bcc,from,size,attachments,content\n"
                                 "{E1},01/05/2010 11:00:00,DTAA/BKB0002,PC-1,Ann.Lee.Ames@dtaa.com,,,"
                                 "Bob.Kit.Best@dtaa.com,100,0,hello\n")
    (r / "http.csv").write_text("id,date,user,pc,url,content\n"
                                "{H1},01/05/2010 12:00:00,DTAA/BKB0002,PC-1,http://news.example/a,news\n")
    a = root / "answers"
    (a / "r4.2-1").mkdir(parents=True)
    (a / "insiders.csv").write_text("dataset,scenario,details,user,start,end\n"
                                    "4.2,1,r4.2-1-CDC0003.csv,CDC0003,03/09/2010 22:10:00,03/09/2010 22:40:00\n")
    (a / "r4.2-1" / "r4.2-1-CDC0003.csv").write_text(
        "logon,{S1},03/09/2010 22:10:00,DTAA/CDC0003,PC-2,Logon\n"
        "device,{S2},03/09/2010 22:15:00,DTAA/CDC0003,PC-2,Connect\n"
        "http,{S3},03/09/2010 22:20:00,DTAA/CDC0003,PC-2,http://wikileaks.org/x.php,words\n"
        "logon,{S4},03/09/2010 22:40:00,DTAA/CDC0003,PC-2,Logoff\n")


def test_a_tiny_cert_set_goes_through_connect_and_replay(tmp_path: Path) -> None:
    _tiny_cert(tmp_path / "cert")
    assert available(tmp_path / "cert") is None
    res = evaluate_cert(tmp_path / "cert", tmp_path / "out", tmp_path / "work")
    assert res["scenarios"]["1"] == {"insiders": 1, "caught": 1, "early": 0, "missed_count": 0,
                                     "median_days_first_alert_before_last_day": 0}
    assert "1:activity.firsts_together" in res["rules_catching"]
    assert not any(r.split(":")[1] in res["process_rules_not_counted"] for r in res["rules_catching"])
    assert res["others"]["users"] == 2 and res["others"]["flagged_medium_plus"] == 0
    # the background ran while LDAP listed each user: CDC0003 left during March, on the scenario's day
    hr = [json.loads(x) for x in (tmp_path / "work" / "hr.jsonl").read_text().splitlines()]
    gone = [h for h in hr if h["status"] == "departed"]
    assert [(h["employee_id"], h["last_day"]) for h in gone] == [("CDC0003", "2010-03-09")]
    assert {h["manager_id"] for h in hr if h["employee_id"] == "BKB0002"} == {"ALA0001"}
    # the repeated heads cover the period: logons in every week up to the end of March for those who stay
    days = {json.loads(x)["ts"][:10] for x in (tmp_path / "work" / "events.logon.jsonl").read_text().splitlines()}
    assert max(days) >= "2010-03-22" and min(days) == "2010-01-04"
    md = (tmp_path / "out" / "cert.md").read_text()
    assert "| 1: after hours" in md and "CDC0003" not in md  # aggregates only


def test_skips_cleanly_without_the_local_copy(tmp_path: Path, capsys) -> None:
    assert main(["evaluate-cert", "--cert-dir", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o")]) == 0
    assert "skipped" in capsys.readouterr().err and not (tmp_path / "o").exists()
