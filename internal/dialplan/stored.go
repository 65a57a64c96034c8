package dialplan

import "errors"

// StoredHours is office hours as the API stores them in tenants, rules and
// IVR menus (PortSIP's office_hours object): a mode (GLOBAL: the tenant's
// hours; CUSTOM: these) and each weekday's ranges as "HH:MM". Routing and
// the applications decode it with this one type.
type StoredHours struct {
	Mode      string     `json:"mode"`
	Sunday    *StoredDay `json:"sunday"`
	Monday    *StoredDay `json:"monday"`
	Tuesday   *StoredDay `json:"tuesday"`
	Wednesday *StoredDay `json:"wednesday"`
	Thursday  *StoredDay `json:"thursday"`
	Friday    *StoredDay `json:"friday"`
	Saturday  *StoredDay `json:"saturday"`
}

// StoredDay is one weekday of StoredHours.
type StoredDay struct {
	Enabled bool          `json:"enabled"`
	Ranges  []StoredRange `json:"ranges"`
}

// StoredRange is a range of a StoredDay, "HH:MM" to "HH:MM".
type StoredRange struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// OfficeHours converts stored hours; nil stays nil (no hours: always
// open). A weekday left out is closed. A range that does not parse is left
// out and reported in the error, with the rest converted: one bad range
// must not close a whole menu.
func (h *StoredHours) OfficeHours() (*OfficeHours, error) {
	if h == nil {
		return nil, nil
	}
	var o OfficeHours
	var errs []error
	for wd, d := range [7]*StoredDay{h.Sunday, h.Monday, h.Tuesday, h.Wednesday, h.Thursday, h.Friday, h.Saturday} {
		if d == nil {
			continue
		}
		o[wd].Enabled = d.Enabled
		for _, r := range d.Ranges {
			from, err1 := ParseClock(r.From)
			to, err2 := ParseClock(r.To)
			if err := errors.Join(err1, err2); err != nil {
				errs = append(errs, err)
				continue
			}
			o[wd].Ranges = append(o[wd].Ranges, TimeRange{From: from, To: to})
		}
	}
	return &o, errors.Join(errs...)
}

// AnyDay reports whether any weekday is enabled: hours with none (what a
// new tenant holds) are read as no hours at all, always open.
func (o *OfficeHours) AnyDay() bool {
	for _, d := range o {
		if d.Enabled {
			return true
		}
	}
	return false
}
