//! Splitting text at an ASCII byte. `str::split` and `split_once` with a `char` bring core's
//! UTF-8-aware searcher and `memchr` into the wasm (about 1.5 KB); every separator we split at
//! is one ASCII byte, which can never sit inside a multi-byte character.

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

/// `s` cut at the first `sep`: the text before it and the text after it.
pub(crate) fn cut(s: &str, sep: u8) -> Option<(&str, &str)> {
    let i = find_any(s, &[sep])?;
    Some((&s[..i], &s[i + 1..]))
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
