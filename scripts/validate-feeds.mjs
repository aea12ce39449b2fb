// scripts/validate-feeds.mjs ICALJS_DIR FILE... — parse iCalendar files with
// npm's ical.js and print, per file, what it reads of each VEVENT as JSON.
// scripts/validate-feeds.py compares that with python3-vobject and the API.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const [dir, ...files] = process.argv.slice(2);
const ICAL = createRequire(join(dir, "node_modules", "_.js"))("ical.js");

function moment(t) {
  if (!t) return null;
  if (t.isDate) return ["date", t.toString()];
  if (t.zone !== ICAL.Timezone.utcTimezone) return ["floating", t.toString()];
  return ["utc", t.toJSDate().toISOString().replace(".000Z", "Z")];
}

const out = {};
for (const f of files) {
  const cal = new ICAL.Component(ICAL.parse(readFileSync(f, "utf8")));
  if (cal.name !== "vcalendar") throw new Error(`${f}: not a VCALENDAR`);
  out[f] = cal.getAllSubcomponents("vevent").map((v) => {
    const e = new ICAL.Event(v);
    return {
      uid: e.uid,
      url: v.getFirstPropertyValue("url") ?? "",
      start: moment(e.startDate),
      end: moment(e.endDate),
      status: v.getFirstPropertyValue("status") ?? "",
      sequence: e.sequence ?? -1,
      summary: e.summary ?? "",
    };
  });
}
process.stdout.write(JSON.stringify(out));
