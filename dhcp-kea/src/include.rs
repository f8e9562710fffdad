//! Kea's `<?include "path"?>` directive: the named file's text stands in
//! for the directive, wherever it appears outside strings and comments, and
//! may itself include further files.
//!
//! As with Kea, a relative path is taken from the server's working
//! directory (not from the including file's directory), and nesting is
//! bounded ([`MAX_DEPTH`]); a file that includes itself, directly or not,
//! is refused rather than expanded until the bound.

use std::path::{Path, PathBuf};

/// How deep includes may nest (Kea's lexer allows ten levels).
pub const MAX_DEPTH: usize = 10;

const OPEN: &str = "<?include";
const CLOSE: &str = "?>";

/// Why an include could not be expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IncludeError {
    /// The file holding the directive.
    pub file: String,
    /// Its line, from 1.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Reads files for [`expand`]: the file system, or a map in tests.
pub(crate) trait Source {
    /// The text of `path`, or why it cannot be read.
    fn read(&self, path: &Path) -> Result<String, String>;
}

/// The file system.
pub(crate) struct Files;

impl Source for Files {
    fn read(&self, path: &Path) -> Result<String, String> {
        std::fs::read_to_string(path).map_err(|e| e.to_string())
    }
}

/// `text` (from the file `name`) with every include replaced by its file's
/// expanded text. Text without a directive comes back unchanged.
pub(crate) fn expand(text: &str, name: &str, src: &dyn Source) -> Result<String, IncludeError> {
    if !text.contains(OPEN) {
        return Ok(text.to_owned());
    }
    let mut chain = vec![PathBuf::from(name)];
    expand_in(text, name, src, &mut chain)
}

fn expand_in(
    text: &str,
    name: &str,
    src: &dyn Source,
    chain: &mut Vec<PathBuf>,
) -> Result<String, IncludeError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut consumed = 0;
    while let Some(at) = next_directive(rest) {
        out.push_str(&rest[..at]);
        let line = 1 + text[..consumed + at].matches('\n').count();
        let fail = |message: String| IncludeError {
            file: name.to_owned(),
            line,
            message,
        };
        let (path, len) = directive(&rest[at..]).map_err(|m| fail(m.to_owned()))?;
        let path = PathBuf::from(path);
        if chain.len() > MAX_DEPTH {
            return Err(fail(format!(
                "too many nested includes (more than {MAX_DEPTH})"
            )));
        }
        if chain.contains(&path) {
            return Err(fail(format!(
                "include file {} includes itself",
                path.display()
            )));
        }
        let inner = src
            .read(&path)
            .map_err(|e| fail(format!("Can't open include file {}: {e}", path.display())))?;
        chain.push(path.clone());
        let expanded = expand_in(&inner, &path.display().to_string(), src, chain)?;
        chain.pop();
        out.push_str(&expanded);
        rest = &rest[at + len..];
        consumed += at + len;
    }
    out.push_str(rest);
    Ok(out)
}

/// The offset of the next directive outside strings and comments.
fn next_directive(text: &str) -> Option<usize> {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'#' => i = skip_line(b, i),
            b'/' if b.get(i + 1) == Some(&b'/') => i = skip_line(b, i),
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    i += 1;
                }
                i += 2;
            }
            b'<' if text[i..].starts_with(OPEN) => return Some(i),
            _ => i += 1,
        }
    }
    None
}

fn skip_line(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i] != b'\n' {
        i += 1;
    }
    i
}

/// The path of the directive at the start of `s` and the directive's length.
fn directive(s: &str) -> Result<(&str, usize), &'static str> {
    let after = &s[OPEN.len()..];
    let body = after.trim_start();
    let skipped = after.len() - body.len();
    let Some(quoted) = body.strip_prefix('"') else {
        return Err("<?include must be followed by a quoted file name");
    };
    let Some(end) = quoted.find('"') else {
        return Err("the include file name is not closed by a quote");
    };
    let path = &quoted[..end];
    if path.is_empty() {
        return Err("the include file name is empty");
    }
    let tail = &quoted[end + 1..];
    let trimmed = tail.trim_start();
    if !trimmed.starts_with(CLOSE) {
        return Err("the include directive is not closed by ?>");
    }
    let len = OPEN.len() + skipped + 1 + end + 1 + (tail.len() - trimmed.len()) + CLOSE.len();
    Ok((path, len))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    struct Map(HashMap<&'static str, &'static str>);

    impl Source for Map {
        fn read(&self, path: &Path) -> Result<String, String> {
            self.0
                .get(path.to_str().unwrap_or_default())
                .map(|s| (*s).to_owned())
                .ok_or_else(|| "No such file or directory (os error 2)".to_owned())
        }
    }

    fn map(files: &[(&'static str, &'static str)]) -> Map {
        Map(files.iter().copied().collect())
    }

    #[test]
    fn text_without_includes_is_unchanged() {
        let t = r#"{ "a": "<?include \"x\"?> in a string" } // <?include "y"?>"#;
        assert_eq!(expand(t, "m", &map(&[])).unwrap(), t);
    }

    #[test]
    fn includes_expand_nested_and_skip_strings_and_comments() {
        let src = map(&[
            ("p.json", r#"[ <?include "q.json" ?> ]"#),
            ("q.json", r#"{ "pool": "10.0.0.1 - 10.0.0.9" }"#),
        ]);
        let t =
            "{ \"pools\": <?include \"p.json\"?>, # <?include \"none\"?>\n \"s\": \"<?include\" }";
        assert_eq!(
            expand(t, "m", &src).unwrap(),
            "{ \"pools\": [ { \"pool\": \"10.0.0.1 - 10.0.0.9\" } ], # <?include \"none\"?>\n \"s\": \"<?include\" }"
        );
    }

    #[test]
    fn refusals_name_the_file_and_line() {
        let e = expand("{\n<?include \"gone.json\"?>}", "m.json", &map(&[])).unwrap_err();
        assert_eq!((e.file.as_str(), e.line), ("m.json", 2));
        assert_eq!(
            e.message,
            "Can't open include file gone.json: No such file or directory (os error 2)"
        );
        let e = expand("<?include gone?>", "m", &map(&[])).unwrap_err();
        assert_eq!(
            e.message,
            "<?include must be followed by a quoted file name"
        );
        let e = expand("<?include \"a\"", "m", &map(&[("a", "1")])).unwrap_err();
        assert_eq!(e.message, "the include directive is not closed by ?>");
        let looped = map(&[("a", "<?include \"b\"?>"), ("b", "<?include \"a\"?>")]);
        let e = expand("<?include \"a\"?>", "m", &looped).unwrap_err();
        assert_eq!(
            (e.file.as_str(), e.message.as_str()),
            ("b", "include file a includes itself")
        );
    }

    #[test]
    fn nesting_is_bounded() {
        let names = [
            "f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9", "f10", "f11",
        ];
        let texts = [
            "<?include \"f1\"?>",
            "<?include \"f2\"?>",
            "<?include \"f3\"?>",
            "<?include \"f4\"?>",
            "<?include \"f5\"?>",
            "<?include \"f6\"?>",
            "<?include \"f7\"?>",
            "<?include \"f8\"?>",
            "<?include \"f9\"?>",
            "<?include \"f10\"?>",
            "<?include \"f11\"?>",
            "1",
        ];
        let src = map(&names.iter().copied().zip(texts).collect::<Vec<_>>());
        let e = expand("<?include \"f0\"?>", "m", &src).unwrap_err();
        assert!(e.message.starts_with("too many nested includes"), "{e:?}");
        // Ten levels are fine.
        assert_eq!(expand("<?include \"f2\"?>", "m", &src).unwrap(), "1");
    }
}
