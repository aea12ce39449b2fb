package web

import (
	"encoding/json"
	"html/template"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"treffpunkt/internal/event"
)

// ogLocales are the OpenGraph locales of the network's languages (the
// territory where most of its speakers in the network come from).
var ogLocales = map[string]string{
	"de": "de_DE", "en": "en_GB", "ar": "ar_AR", "fa": "fa_IR", "ku": "ku_TR", "ru": "ru_RU", "tr": "tr_TR",
}

// linkPreview is what messengers, social networks and search engines read
// of an event page: OpenGraph tags and a schema.org Event in JSON-LD.
type linkPreview struct {
	URL, Title, Description, Locale, SiteName string
	AltLocales                                []string
	Image                                     *previewImage
	// Calendar is the event's own feed, for <link rel="alternate">.
	Calendar string
	JSONLD   template.JS
}

type previewImage struct {
	URL, Alt, Type string
	Width, Height  int
}

// LinkPreview is the preview of the event shown on the page, in the page's
// language. Addresses are absolute, from BASE_URL: a preview is read
// elsewhere.
func (v *View) LinkPreview(ev eventView) linkPreview {
	e := ev.src
	base := v.BaseURL
	p := linkPreview{
		URL: base + "/events/" + e.Slug, Title: ev.Title, Locale: ogLocales[v.Lang],
		SiteName: v.T("site.name"), Calendar: base + "/events/" + e.Slug + ".ics",
	}
	if ev.Cancelled {
		p.Title = v.T("state.cancelled") + ": " + p.Title
	}
	for _, l := range v.Languages {
		if _, ok := e.Title[l]; ok && l != v.Lang {
			p.AltLocales = append(p.AltLocales, ogLocales[l])
		}
	}
	p.Description = ev.When
	if len(ev.Description) > 0 {
		p.Description += " · " + clip(ev.Description[0], 200)
	}
	if e.Image != nil && len(e.Image.Files) > 0 {
		f := e.Image.Largest()
		p.Image = &previewImage{URL: base + "/images/" + f.Name(), Alt: e.Image.AltIn(v.Lang, e.DefaultLang), Type: f.ContentType, Width: f.Width, Height: f.Height}
	}
	p.JSONLD = eventJSONLD(e, v.Lang, base, p.Description)
	return p
}

// clip shortens s to at most n runes, at a word boundary, with an ellipsis.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)[:n]
	if i := strings.LastIndexByte(string(r), ' '); i > n/2 {
		return strings.TrimRight(string(r)[:i], " ,.;:") + "…"
	}
	return string(r) + "…"
}

// schema.org vocabulary used below.
const (
	schemaScheduled = "https://schema.org/EventScheduled"
	schemaCancelled = "https://schema.org/EventCancelled"
	schemaOffline   = "https://schema.org/OfflineEventAttendanceMode"
	schemaInStock   = "https://schema.org/InStock"
	schemaSoldOut   = "https://schema.org/SoldOut"
)

type ldThing = map[string]any

// eventJSONLD is a schema.org Event (https://schema.org/Event, the fields
// Google's event rich results read). Times carry the event's own offset.
// An event without a price note is free: it says so
// (isAccessibleForFree) and offers places at price 0.
func eventJSONLD(e *event.Event, lang, base, description string) template.JS {
	loc := e.Location()
	title, _ := e.Title.In(lang, e.DefaultLang)
	ld := ldThing{
		"@context":            "https://schema.org",
		"@type":               "Event",
		"name":                title,
		"description":         description,
		"url":                 base + "/events/" + e.Slug,
		"startDate":           e.StartsAt.In(loc).Format(time.RFC3339),
		"endDate":             e.EndsAt.In(loc).Format(time.RFC3339),
		"eventStatus":         schemaScheduled,
		"eventAttendanceMode": schemaOffline,
		"inLanguage":          inLanguage(e),
		"organizer":           ldThing{"@type": "Organization", "name": e.OrgName, "url": base + "/orgs/" + e.OrgSlug},
	}
	if e.Status == event.Cancelled {
		ld["eventStatus"] = schemaCancelled
	}
	if v := e.Venue; v.Name != "" {
		addr := ldThing{"@type": "PostalAddress"}
		for k, s := range map[string]string{"streetAddress": v.Street, "postalCode": v.Postcode, "addressLocality": v.City} {
			if s != "" {
				addr[k] = s
			}
		}
		place := ldThing{"@type": "Place", "name": v.Name, "address": addr}
		if v.HasCoordinates() {
			place["geo"] = ldThing{"@type": "GeoCoordinates", "latitude": *v.Lat, "longitude": *v.Lon}
		}
		if feats := amenities(e); len(feats) > 0 {
			place["amenityFeature"] = feats
		}
		ld["location"] = place
	}
	if e.PriceNote == "" {
		ld["isAccessibleForFree"] = true
		avail := schemaInStock
		if e.Full() && !e.Waitlist {
			avail = schemaSoldOut
		}
		offer := ldThing{"@type": "Offer", "price": 0, "priceCurrency": "EUR", "url": base + "/events/" + e.Slug, "availability": avail}
		if e.RegistrationOpensAt != nil {
			offer["validFrom"] = e.RegistrationOpensAt.In(loc).Format(time.RFC3339)
		}
		ld["offers"] = offer
	}
	if e.Image != nil && len(e.Image.Files) > 0 {
		var urls []string
		for _, f := range e.Image.Files {
			urls = append(urls, base+"/images/"+f.Name())
		}
		ld["image"] = urls
	}
	b, err := json.Marshal(ld)
	if err != nil {
		return "{}"
	}
	// json.Marshal escapes <, > and & (\u003c…), so the text cannot end
	// the <script> element it sits in.
	return template.JS(b) //nolint:gosec // see above
}

// inLanguage is the languages spoken at the event and those interpreted
// into (BCP 47); sign language adds "gsg", German Sign Language, the one
// of the network's home.
func inLanguage(e *event.Event) []string {
	out := append([]string{}, e.Spoken()...)
	for _, l := range e.Interpreting {
		if !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	if e.SignLanguage {
		out = append(out, "gsg")
	}
	return out
}

// amenities are the known facts as schema.org LocationFeatureSpecification
// on the Place (schema.org has no accessibility property on Event):
// value true or false; unknown facts are left out.
func amenities(e *event.Event) []ldThing {
	var out []ldThing
	add := func(name string, v *bool) {
		if v != nil {
			out = append(out, ldThing{"@type": "LocationFeatureSpecification", "name": name, "value": *v})
		}
	}
	add("step_free", e.Venue.StepFree)
	add("accessible_toilet", e.Venue.AccessibleToilet)
	add("hearing_loop", e.Venue.HearingLoop)
	if e.SignLanguage {
		add("sign_language", new(true))
	}
	if e.Childcare {
		add("childcare", new(true))
	}
	return out
}
