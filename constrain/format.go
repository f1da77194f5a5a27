// This file holds the string formats the schema matcher enforces, as
// small automata over the characters of the string: date (RFC 3339
// full-date, days checked against the month and leap years), time
// (full-time: hh:mm:ss, an optional fraction, Z or an offset), date-time
// (date "T" time) and uuid (8-4-4-4-12 hexadecimal digits). Seconds stop
// at 59: a leap second is valid only at the end of some UTC days, which a
// prefix cannot know.

package constrain

// Format positions. A date fills positions 0-9 (YYYY-MM-DD); a time
// starts at tStart.
const (
	dYear    = 0 // 0-3: year digits
	dDash1   = 4
	dMonth1  = 5
	dMonth2  = 6
	dDash2   = 7
	dDay1    = 8
	dDay2    = 9
	dEnd     = 10 // after the date: 'T' for date-time, else the closing quote
	tStart   = 16 // hh:mm:ss at tStart..tStart+7
	tSecEnd  = tStart + 8
	tFrac    = 30 // fraction digits (count in b)
	tOff     = 31 // offset hh:mm at tOff..tOff+4
	tOffEnd  = tOff + 5
	uStart   = 40 // uuid: 36 characters at uStart..uStart+35
	fmtClose = 99 // only the closing quote may follow
)

// formatName names the formats for errors; formatMin and formatMax are
// their shortest and longest lengths in characters.
var (
	formatName = map[format]string{fmtDate: "date", fmtDateTime: "date-time", fmtTime: "time", fmtUUID: "uuid"}
	formatMin  = map[format]int{fmtDate: 10, fmtDateTime: 20, fmtTime: 9, fmtUUID: 36}
	formatMax  = map[format]int{fmtDate: 10, fmtDateTime: 35, fmtTime: 24, fmtUUID: 36}
)

// formatStart returns the first position of a format.
func formatStart(f format) int32 {
	switch f {
	case fmtTime:
		return tStart
	case fmtUUID:
		return uStart
	}
	return dYear
}

// daysIn returns the days of a month (1-12) of a year.
func daysIn(year, month int32) int32 {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// formatStep moves a format frame by one byte of the string (not the
// closing quote). The frame keeps the position in a, the year and month in
// c (year*100 + month) and the pending tens digit or fraction count in b.
func formatStep(fm format, f *frame, c byte) bool {
	p := f.a
	d := int32(c) - '0'
	dig := isDigit(c)
	switch {
	case p >= dYear && p < dDash1:
		if !dig {
			return false
		}
		f.c = f.c*10 + d
	case p == dDash1, p == dDash2:
		if c != '-' {
			return false
		}
	case p == dMonth1:
		if !dig || d > 1 {
			return false
		}
		f.b = d
	case p == dMonth2:
		m := f.b*10 + d
		if !dig || m < 1 || m > 12 {
			return false
		}
		f.c = f.c*100 + m
	case p == dDay1:
		if !dig || d > daysIn(f.c/100, f.c%100)/10 {
			return false
		}
		f.b = d
	case p == dDay2:
		day := f.b*10 + d
		if !dig || day < 1 || day > daysIn(f.c/100, f.c%100) {
			return false
		}
		if fm == fmtDate {
			f.a = fmtClose
			return true
		}
	case p == dEnd:
		if c != 'T' {
			return false
		}
		f.a = tStart
		return true
	case p >= tStart && p < tSecEnd:
		// hh:mm:ss: the ":ss" tail checks as the ":mm" one.
		i := p - tStart
		if i > 4 {
			i -= 3
		}
		if !clockStep(f, i, c) {
			return false
		}
	case p == tSecEnd, p == tFrac:
		switch {
		case c == '.' && p == tSecEnd:
			f.a, f.b = tFrac, 0
			return true
		case dig && p == tFrac && f.b < 9:
			f.b++
			return true
		case c == 'Z' && (p == tSecEnd || f.b > 0):
			f.a = fmtClose
			return true
		case (c == '+' || c == '-') && (p == tSecEnd || f.b > 0):
			f.a = tOff
			return true
		}
		return false
	case p >= tOff && p < tOffEnd:
		if !clockStep(f, p-tOff, c) {
			return false
		}
		if p == tOffEnd-1 {
			f.a = fmtClose
			return true
		}
	case p >= uStart && p < uStart+36:
		switch p - uStart {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isHex(c) {
				return false
			}
		}
		if p == uStart+35 {
			f.a = fmtClose
			return true
		}
	default:
		return false
	}
	f.a++
	return true
}

// clockStep checks character i (0-4) of an "hh:mm" clock: hours 00-23,
// minutes 00-59. The pending tens digit of the hour is kept in f.b.
func clockStep(f *frame, i int32, c byte) bool {
	d := int32(c) - '0'
	dig := isDigit(c)
	switch i {
	case 2:
		return c == ':'
	case 0:
		if !dig || d > 2 {
			return false
		}
		f.b = d
	case 1:
		return dig && f.b*10+d <= 23
	case 3:
		return dig && d <= 5
	default:
		return dig
	}
	return true
}
