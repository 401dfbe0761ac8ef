//! Splitting text at an ASCII byte. `str::split` and `split_once` with a `char` bring core's
//! UTF-8-aware searcher and `memchr` into the wasm (about 1.5 KB); every separator we split at
//! is one ASCII byte, which can never sit inside a multi-byte character. And numbers read and
//! written by hand, each for the size reason beside it.

use alloc::string::String;

/// Where the first of the ASCII bytes in `set` is in `s`. (One plain loop for every search:
/// each `bytes().any(closure)` was its own copy of core's iterator code.)
pub(crate) fn find_any(s: &str, set: &[u8]) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if set.contains(&bytes[i]) {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// Whether `s` holds any of the ASCII bytes in `set`.
pub(crate) fn any_of(s: &str, set: &[u8]) -> bool {
    find_any(s, set).is_some()
}

/// `s` cut at the first `sep`: the text before it and the text after it. (`get`, not
/// `&s[..i]`: an ASCII byte is always a character boundary, and indexing would link the
/// boundary panic's message, with `char`'s `Debug`, into the plain build.)
pub(crate) fn cut(s: &str, sep: u8) -> Option<(&str, &str)> {
    let i = find_any(s, &[sep])?;
    Some((s.get(..i)?, s.get(i + 1..)?))
}

/// The pieces of `s` between the `sep` bytes, like `str::split`.
pub(crate) fn parts(s: &str, sep: u8) -> Parts<'_> {
    Parts { rest: Some(s), sep }
}

/// The iterator of [`parts`].
pub(crate) struct Parts<'a> {
    rest: Option<&'a str>,
    sep: u8,
}

impl<'a> Iterator for Parts<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let rest = self.rest?;
        Some(match cut(rest, self.sep) {
            Some((piece, after)) => {
                self.rest = Some(after);
                piece
            }
            None => {
                self.rest = None;
                rest
            }
        })
    }
}

/// Whether `n` is a whole number (without `f64::fract`, which needs std).
pub(crate) fn is_whole(n: f64) -> bool {
    n.is_finite() && n == (n as i64) as f64
}

/// A number as text, without `core::fmt` (whose float code is bigger than this whole module):
/// whole part and up to six decimals, which is all an error message needs.
pub(crate) fn number_text(n: f64) -> String {
    if !n.is_finite() {
        return "a non-finite number".into();
    }
    let mut out = String::new();
    if n < 0.0 {
        out.push('-');
    }
    let abs = n.abs();
    if abs >= 1e15 {
        out.push_str("a very large number");
        return out;
    }
    let scaled = (abs * 1e6 + 0.5) as u64;
    push_uint(&mut out, scaled / 1_000_000);
    let mut frac = scaled % 1_000_000;
    if frac != 0 {
        out.push('.');
        let mut digits = 6;
        while frac % 10 == 0 {
            frac /= 10;
            digits -= 1;
        }
        let mut buf = [b'0'; 6];
        for slot in buf[..digits].iter_mut().rev() {
            *slot = b'0' + (frac % 10) as u8;
            frac /= 10;
        }
        for b in &buf[..digits] {
            out.push(*b as char);
        }
    }
    out
}

/// Reads `-12`, `0.25`, `1500` from an attribute, without `core`'s float parser (its tables
/// and code would be a tenth of the widget); exponents and other exotica are refused.
pub(crate) fn parse_decimal(text: &str) -> Option<f64> {
    let text = text.trim_ascii();
    let (negative, digits) = match text.strip_prefix("-") {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = crate::text::cut(digits, b'.').unwrap_or((digits, ""));
    if whole.is_empty() && fraction.is_empty() || whole.len() + fraction.len() > 15 {
        return None;
    }
    let mut value = 0.0;
    for b in whole.bytes() {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value * 10.0 + f64::from(b - b'0');
    }
    let mut scale = 1.0;
    for b in fraction.bytes() {
        if !b.is_ascii_digit() {
            return None;
        }
        scale /= 10.0;
        value += f64::from(b - b'0') * scale;
    }
    Some(if negative { -value } else { value })
}

/// Reads a whole number written in decimal digits only (no sign, no spaces), as we write
/// them; by hand, as `str::parse` is generic code the wasm would carry once per type.
pub(crate) fn parse_uint(text: &str) -> Option<u64> {
    if text.is_empty() || text.len() > 19 {
        return None;
    }
    let mut n = 0u64;
    for b in text.bytes() {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n * 10 + u64::from(b - b'0');
    }
    Some(n)
}

/// Appends a whole number in decimal.
pub(crate) fn push_uint(out: &mut String, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for b in &buf[i..] {
        out.push(*b as char);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn finds_the_first_of_a_set() {
        assert_eq!(find_any("ab;c{", b"{;"), Some(2));
        assert_eq!(find_any("é:", b":"), Some(2));
        assert_eq!(find_any("abc", b";"), None);
        assert!(any_of("a\nb", b"\0\r\n") && !any_of("", b"x"));
    }

    #[test]
    fn cuts_at_the_first_separator_only() {
        assert_eq!(cut("a=b=c", b'='), Some(("a", "b=c")));
        assert_eq!(cut("=", b'='), Some(("", "")));
        assert_eq!(cut("é=ü", b'='), Some(("é", "ü")));
        assert_eq!(cut("abc", b'='), None);
    }

    #[test]
    fn parts_match_str_split() {
        for s in ["", ";", "a", "a;b", ";a;;b;", "ü;é", "v=1;s=0"] {
            let ours: Vec<&str> = parts(s, b';').collect();
            let core: Vec<&str> = s.split(';').collect();
            assert_eq!(ours, core, "{s:?}");
        }
    }
}
