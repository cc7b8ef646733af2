//! Five-field cron expressions (`minute hour day-of-month month day-of-week`, UTC) with `*`,
//! lists, ranges and steps, and the two questions the scheduler asks: the latest fire time at or
//! before a moment, and the next one after it.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Timelike, Utc};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    minutes: Vec<u32>,
    hours: Vec<u32>,
    days: Vec<u32>,
    months: Vec<u32>,
    weekdays: Vec<u32>,
    any_day: bool,
    any_weekday: bool,
}

fn field(text: &str, min: u32, max: u32, name: &str) -> Result<Vec<u32>, String> {
    let mut out = Vec::new();
    for part in text.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (r, s.parse::<u32>().map_err(|_| format!("{name}: bad step '{s}'"))?),
            None => (part, 1),
        };
        if step == 0 {
            return Err(format!("{name}: step must be at least 1"));
        }
        let (lo, hi) = if range == "*" {
            (min, max)
        } else if let Some((a, b)) = range.split_once('-') {
            let a = a.parse::<u32>().map_err(|_| format!("{name}: bad value '{a}'"))?;
            let b = b.parse::<u32>().map_err(|_| format!("{name}: bad value '{b}'"))?;
            (a, b)
        } else {
            let v = range.parse::<u32>().map_err(|_| format!("{name}: bad value '{range}'"))?;
            (v, if part.contains('/') { max } else { v })
        };
        if lo < min || hi > max || lo > hi {
            return Err(format!("{name}: '{part}' is outside {min}-{max}"));
        }
        out.extend((lo..=hi).step_by(step as usize));
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

impl Cron {
    pub fn parse(expr: &str) -> Result<Cron, String> {
        let parts: Vec<&str> = expr.split_whitespace().collect();
        let [m, h, dom, mon, dow] = parts[..] else {
            return Err("a cron expression has five fields: minute hour day-of-month month day-of-week".into());
        };
        let mut weekdays = field(dow, 0, 7, "day-of-week")?;
        // 7 is Sunday too.
        if weekdays.contains(&7) {
            weekdays.retain(|d| *d != 7);
            if !weekdays.contains(&0) {
                weekdays.insert(0, 0);
            }
        }
        Ok(Cron {
            minutes: field(m, 0, 59, "minute")?,
            hours: field(h, 0, 23, "hour")?,
            days: field(dom, 1, 31, "day-of-month")?,
            months: field(mon, 1, 12, "month")?,
            weekdays,
            any_day: dom == "*",
            any_weekday: dow == "*",
        })
    }

    /// Classic cron: when both day fields are restricted, either may match.
    fn day_matches(&self, d: NaiveDate) -> bool {
        if !self.months.contains(&d.month()) {
            return false;
        }
        let dom = self.days.contains(&d.day());
        let dow = self.weekdays.contains(&d.weekday().num_days_from_sunday());
        match (self.any_day, self.any_weekday) {
            (true, true) => true,
            (true, false) => dow,
            (false, true) => dom,
            (false, false) => dom || dow,
        }
    }

    /// The latest fire time at or before `t` (searching back up to about four years).
    pub fn prev(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut day = t.date_naive();
        for i in 0..1500 {
            if self.day_matches(day) {
                let (max_h, max_m) = if i == 0 { (t.hour(), t.minute()) } else { (23, 59) };
                for &h in self.hours.iter().rev().filter(|h| **h <= max_h) {
                    let limit = if h == max_h { max_m } else { 59 };
                    if let Some(&m) = self.minutes.iter().rev().find(|m| **m <= limit) {
                        return Utc.from_utc_datetime(&day.and_hms_opt(h, m, 0)?).into();
                    }
                }
            }
            day = day.pred_opt()?;
        }
        None
    }

    /// The first fire time strictly after `t`.
    pub fn next(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let start = t + Duration::minutes(1);
        let mut day = start.date_naive();
        for i in 0..1500 {
            if self.day_matches(day) {
                let (min_h, min_m) = if i == 0 { (start.hour(), start.minute()) } else { (0, 0) };
                for &h in self.hours.iter().filter(|h| **h >= min_h) {
                    let from = if h == min_h { min_m } else { 0 };
                    if let Some(&m) = self.minutes.iter().find(|m| **m >= from) {
                        return Utc.from_utc_datetime(&day.and_hms_opt(h, m, 0)?).into();
                    }
                }
            }
            day = day.succ_opt()?;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).map(|d| d.with_timezone(&Utc)).expect("time")
    }

    #[test]
    fn daily() {
        let c = Cron::parse("0 3 * * *").expect("parse");
        assert_eq!(c.prev(at("2026-11-23T12:00:00Z")), Some(at("2026-11-23T03:00:00Z")));
        assert_eq!(c.prev(at("2026-11-23T02:59:59Z")), Some(at("2026-11-22T03:00:00Z")));
        assert_eq!(c.prev(at("2026-11-23T03:00:00Z")), Some(at("2026-11-23T03:00:00Z")));
        assert_eq!(c.next(at("2026-11-23T03:00:00Z")), Some(at("2026-11-24T03:00:00Z")));
    }

    #[test]
    fn steps_lists_ranges_and_weekdays() {
        let c = Cron::parse("*/15 9-17 * * 1-5").expect("parse");
        // Sunday 2026-11-22: back to Friday 17:45.
        assert_eq!(c.prev(at("2026-11-22T12:00:00Z")), Some(at("2026-11-20T17:45:00Z")));
        assert_eq!(c.next(at("2026-11-23T09:07:00Z")), Some(at("2026-11-23T09:15:00Z")));
        let c = Cron::parse("30 0 1,15 * *").expect("parse");
        assert_eq!(c.next(at("2026-11-23T00:00:00Z")), Some(at("2026-12-01T00:30:00Z")));
        assert_eq!(Cron::parse("0 0 * * 7").expect("sun"), Cron::parse("0 0 * * 0").expect("sun"));
    }

    #[test]
    fn rejects_nonsense() {
        for bad in ["", "* * * *", "60 * * * *", "* 24 * * *", "*/0 * * * *", "a * * * *", "5-1 * * * *", "* * 0 * *"] {
            assert!(Cron::parse(bad).is_err(), "{bad:?}");
        }
    }
}
