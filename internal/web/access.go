package web

import (
	"html/template"
	"net/url"
	"strconv"

	"treffpunkt/internal/event"
	"treffpunkt/internal/i18n"
)

// factView is one accessibility fact in words, with an icon that only
// repeats the words (aria-hidden): never an icon alone.
type factView struct {
	Key, Icon, Text string
	Yes             bool
}

// whereView links the venue on a map: OpenStreetMap and a geo: URI (a
// phone opens its map app) when its position is known, else a search for
// its address. Nothing is loaded from a map server by the page itself.
type whereView struct {
	OSM string
	Geo template.URL
}

// factsOf lists the facts known of e and its venue, in the page's language:
// what is known to be there, and what is known not to be (unknown facts
// are left out rather than guessed).
func factsOf(l *i18n.Localizer, e *event.Event) []factView {
	var out []factView
	add := func(key, icon string, v *bool) {
		if v == nil {
			return
		}
		msg := "access." + key
		if !*v {
			msg += "_no"
		}
		out = append(out, factView{Key: key, Icon: icon, Text: l.T(msg, nil), Yes: *v})
	}
	yes := true
	add("step_free", "♿", e.Venue.StepFree)
	add("accessible_toilet", "🚻", e.Venue.AccessibleToilet)
	add("hearing_loop", "🦻", e.Venue.HearingLoop)
	if e.SignLanguage {
		add("sign_language", "🤟", &yes)
	}
	if len(e.Interpreting) > 0 {
		names := ""
		for i, lang := range e.Interpreting {
			if i > 0 {
				names += ", "
			}
			names += i18n.Name(lang)
		}
		out = append(out, factView{Key: "interpreting", Icon: "🗣", Text: l.T("access.interpreting", map[string]any{"Languages": names}), Yes: true})
	}
	if e.Childcare {
		add("childcare", "🧸", &yes)
	}
	return out
}

func whereOf(v event.Venue) *whereView {
	if v.Name == "" {
		return nil
	}
	if v.HasCoordinates() {
		lat, lon := strconv.FormatFloat(*v.Lat, 'f', -1, 64), strconv.FormatFloat(*v.Lon, 'f', -1, 64)
		return &whereView{
			OSM: "https://www.openstreetmap.org/?mlat=" + lat + "&mlon=" + lon + "#map=17/" + lat + "/" + lon,
			// Digits, a comma and a dot only: html/template would refuse
			// the geo: scheme.
			Geo: template.URL("geo:" + lat + "," + lon), //nolint:gosec // see above
		}
	}
	q := v.Name
	if a := v.Address(); a != "" {
		q += ", " + a
	}
	return &whereView{OSM: "https://www.openstreetmap.org/search?query=" + url.QueryEscape(q)}
}
