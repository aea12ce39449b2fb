#!/usr/bin/env python3
"""Check Treffpunkt's calendar feeds with vobject and ical.js and against
the JSON API. Run it through scripts/validate-feeds.sh, which finds the
tools; see there for the usage."""

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

import vobject

HERE = os.path.dirname(os.path.abspath(__file__))
UTC = dt.timezone.utc
problems = []


def fail(msg):
    problems.append(msg)
    print("FAIL: " + msg, file=sys.stderr)


def fetch(url, accept="*/*"):
    req = urllib.request.Request(url, headers={"Accept": accept})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return resp.status, resp.headers.get("Content-Type", ""), resp.read()


def check_lines(path, body):
    if not body.endswith(b"\r\n"):
        fail(f"{path}: does not end in CRLF")
    for n, line in enumerate(body[:-2].split(b"\r\n"), 1):
        if b"\r" in line or b"\n" in line:
            fail(f"{path}: line {n} has a bare CR or LF")
        if len(line) > 75:
            fail(f"{path}: line {n} is {len(line)} octets long")
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            fail(f"{path}: line {n} splits a UTF-8 character")


def moment(v):
    """A DTSTART/DTEND value as ('date', 'YYYY-MM-DD') or ('utc', ISO)."""
    if isinstance(v, dt.datetime):
        if v.tzinfo is None:
            fail(f"floating time {v} (feeds use UTC)")
            return ("floating", v.isoformat())
        return ("utc", v.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    return ("date", v.isoformat())


def read_vobject(path, text):
    """Events as vobject reads them, validating every component."""
    out = []
    cals = list(vobject.readComponents(text, validate=True))
    if len(cals) != 1:
        fail(f"{path}: {len(cals)} calendars, want 1")
    for cal in cals:
        method = getattr(cal, "method", None)
        if method is not None and method.value.upper() == "REQUEST":
            fail(f"{path}: METHOD:REQUEST in a feed")
        for name in ("x_wr_calname", "refresh_interval", "x_published_ttl"):
            if path != "-" and not hasattr(cal, name):
                fail(f"{path}: no {name.upper().replace('_', '-')}")
        for ev in getattr(cal, "vevent_list", []):
            for need in ("uid", "dtstamp", "dtstart", "dtend", "sequence", "status",
                         "summary", "url", "organizer", "categories", "last_modified"):
                if not hasattr(ev, need):
                    fail(f"{path}: VEVENT without {need.upper().replace('_', '-')}")
            if not hasattr(ev, "uid") or not hasattr(ev, "dtstart"):
                continue
            out.append({
                "uid": ev.uid.value,
                "url": ev.url.value if hasattr(ev, "url") else "",
                "start": moment(ev.dtstart.value),
                "end": moment(ev.dtend.value) if hasattr(ev, "dtend") else None,
                "status": ev.status.value if hasattr(ev, "status") else "",
                "sequence": int(ev.sequence.value) if hasattr(ev, "sequence") else -1,
                "summary": ev.summary.value if hasattr(ev, "summary") else "",
            })
    return out


def read_icaljs(node, icaljs, files):
    res = subprocess.run([node, os.path.join(HERE, "validate-feeds.mjs"), icaljs, *files],
                         capture_output=True, text=True, timeout=120)
    if res.returncode != 0:
        fail(f"ical.js: {res.stderr.strip()}")
        return {}
    out = json.loads(res.stdout)
    for f, evs in out.items():
        for e in evs:
            e["start"] = tuple(e["start"])
            e["end"] = tuple(e["end"]) if e["end"] else None
    return out


def api_moments(e):
    """The API's starts_at/ends_at as a feed must write them."""
    start = dt.datetime.fromisoformat(e["starts_at"].replace("Z", "+00:00"))
    end = dt.datetime.fromisoformat(e["ends_at"].replace("Z", "+00:00"))
    if e.get("all_day"):
        # The API gives times in the event's zone, so the dates are local.
        return ("date", start.date().isoformat()), ("date", (end.date() + dt.timedelta(days=1)).isoformat())
    z = "%Y-%m-%dT%H:%M:%SZ"
    return ("utc", start.astimezone(UTC).strftime(z)), ("utc", end.astimezone(UTC).strftime(z))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--icaljs", required=True)
    ap.add_argument("--node", default="node")
    ap.add_argument("base")
    ap.add_argument("feeds", nargs="*")
    args = ap.parse_args()
    base = args.base.rstrip("/")

    since = (dt.date.today() - dt.timedelta(days=80)).isoformat()
    status, _, raw = fetch(f"{base}/api/v1/events?from={since}", "application/json")
    events = json.loads(raw)["events"]
    by_url = {e["url"]: e for e in events}

    feeds = ["/calendar.ics"]
    feeds += sorted({f"/orgs/{e['org']['slug']}/calendar.ics" for e in events})
    feeds += [f"/events/{e['slug']}.ics" for e in events]
    feeds += args.feeds

    seen_network = set()
    total = 0
    with tempfile.TemporaryDirectory() as tmp:
        files, parsed = {}, {}
        for i, path in enumerate(feeds):
            try:
                status, ctype, body = fetch(base + path, "text/calendar")
            except urllib.error.HTTPError as err:
                fail(f"{path}: HTTP {err.code}")
                continue
            if not ctype.startswith("text/calendar") or "charset=utf-8" not in ctype:
                fail(f"{path}: Content-Type {ctype!r}")
            check_lines(path, body)
            try:
                parsed[path] = read_vobject(path, body.decode("utf-8"))
            except Exception as err:  # vobject raises many kinds
                fail(f"{path}: vobject: {err}")
                continue
            f = os.path.join(tmp, f"feed{i}.ics")
            with open(f, "wb") as fh:
                fh.write(body)
            files[f] = path
        icaljs = read_icaljs(args.node, args.icaljs, list(files))

        for f, path in files.items():
            ours, theirs = parsed[path], icaljs.get(f, [])
            total += len(ours)
            if len(ours) != len(theirs):
                fail(f"{path}: vobject reads {len(ours)} events, ical.js {len(theirs)}")
            for a, b in zip(ours, theirs):
                for k in ("uid", "url", "start", "end", "status", "sequence", "summary"):
                    if a[k] != b[k]:
                        fail(f"{path} {a['uid']}: {k} is {a[k]!r} for vobject, {b[k]!r} for ical.js")
            uids = [a["uid"] for a in ours]
            if len(set(uids)) != len(uids):
                fail(f"{path}: a UID appears twice")
            for a in ours:
                e = by_url.get(a["url"])
                if path == "/calendar.ics":
                    seen_network.add(a["url"])
                if e is None:
                    continue
                start, end = api_moments(e)
                if a["start"] != start or a["end"] != end:
                    fail(f"{path} {e['slug']}: {a['start']}–{a['end']}, API says {start}–{end}")
                if (a["status"] == "CANCELLED") != (e["status"] == "cancelled") and not path.startswith("/feeds/"):
                    fail(f"{path} {e['slug']}: STATUS {a['status']}, API status {e['status']}")
                if not path.startswith("/feeds/") and a["sequence"] != e["sequence"]:
                    fail(f"{path} {e['slug']}: SEQUENCE {a['sequence']}, API sequence {e['sequence']}")
    for e in events:
        if e["status"] == "published" and e["url"] not in seen_network:
            fail(f"/calendar.ics lacks {e['slug']}")

    if problems:
        print(f"validate-feeds: {len(problems)} problem(s) in {len(feeds)} feeds", file=sys.stderr)
        return 1
    print(f"validate-feeds: {len(feeds)} feeds, {total} events: vobject and ical.js agree with each other and the API")
    return 0


if __name__ == "__main__":
    sys.exit(main())
