//! The `Date` header every answer carries, formatted once a second per thread.

use std::cell::RefCell;
use std::time::{SystemTime, UNIX_EPOCH};

/// `Sun, 06 Nov 1994 08:49:37 GMT`: always 29 bytes.
pub type HttpDate = [u8; 29];

thread_local! {
    static CACHED: RefCell<(u64, HttpDate)> = const { RefCell::new((u64::MAX, [0; 29])) };
}

/// `now` as an HTTP date.
pub fn of(now: SystemTime) -> HttpDate {
    let second = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    CACHED.with_borrow_mut(|(at, date)| {
        if *at != second {
            let text = httpdate::fmt_http_date(now);
            if let Ok(bytes) = <HttpDate>::try_from(text.as_bytes()) {
                (*at, *date) = (second, bytes);
            }
        }
        *date
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_date_is_an_http_date_of_now() {
        let date = super::of(std::time::SystemTime::now());
        let parsed = httpdate::parse_http_date(std::str::from_utf8(&date).unwrap()).unwrap();
        let age = std::time::SystemTime::now().duration_since(parsed).unwrap();
        assert!(age.as_secs() < 2);
    }
}
