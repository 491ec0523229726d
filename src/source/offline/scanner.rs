//! A streaming JSON value splitter: finds where each value ends without parsing it, so that only records
//! worth a full parse are parsed. String- and escape-aware, depth-counting, bounded memory: the buffer holds
//! at most one value (capped at `MAX_VALUE`) plus one read chunk.

use memchr::{memchr, memchr_iter, memchr3};
use std::io::{self, Read};

const CHUNK: usize = 256 * 1024;
/// The largest single JSON value we hold in memory (CloudTrail events are far below 1 MiB).
pub const MAX_VALUE: usize = 8 * 1024 * 1024;
/// Bytes of a string checked one by one before falling back to a vector search.
const SHORT_STRING: usize = 32;

/// Why scanning stopped.
#[derive(Debug)]
pub enum ScanError {
    /// The underlying reader failed (I/O, gzip).
    Io { offset: u64, error: io::Error },
    /// The bytes are not the JSON we expected; `offset` is absolute in the decoded stream.
    Syntax { offset: u64, line: u64, message: String },
}

pub struct Scanner<R> {
    reader: R,
    buf: Vec<u8>,
    /// Next unconsumed byte in `buf`.
    pos: usize,
    /// End of valid bytes in `buf`.
    len: usize,
    /// Absolute offset of `buf[0]` in the decoded stream.
    base: u64,
    /// Newlines before `buf[0]`.
    base_lines: u64,
    eof: bool,
}

impl<R: Read> Scanner<R> {
    pub fn new(reader: R) -> Self {
        Scanner { reader, buf: vec![0; CHUNK], pos: 0, len: 0, base: 0, base_lines: 0, eof: false }
    }

    /// Absolute offset of the next unconsumed byte.
    pub fn offset(&self) -> u64 {
        self.base + self.pos as u64
    }

    /// Bytes decoded so far.
    pub fn decoded(&self) -> u64 {
        self.base + self.len as u64
    }

    /// 1-based line of a position in the buffer.
    fn line_at(&self, at: usize) -> u64 {
        self.base_lines + memchr_iter(b'\n', &self.buf[..at.min(self.len)]).count() as u64 + 1
    }

    pub fn syntax(&self, at: usize, message: impl Into<String>) -> ScanError {
        ScanError::Syntax { offset: self.base + at as u64, line: self.line_at(at), message: message.into() }
    }

    /// An error inside the value at the current position, at a `line`/`column` relative to its start.
    pub fn syntax_in_value(&self, message: String, line: usize, column: Option<usize>) -> ScanError {
        let start_line = self.line_at(self.pos);
        let line = start_line + line as u64 - 1;
        let column = column.map(|c| format!(", column {c}")).unwrap_or_default();
        ScanError::Syntax {
            offset: self.offset(),
            line,
            message: format!("{message} (in the record starting at byte {}{column})", self.offset()),
        }
    }

    /// An error at the current position.
    pub fn syntax_here(&self, message: impl Into<String>) -> ScanError {
        self.syntax(self.pos, message)
    }

    /// Reads more bytes, keeping everything from `pos` on. Returns `false` at end of input.
    fn fill(&mut self) -> Result<bool, ScanError> {
        if self.eof {
            return Ok(false);
        }
        if self.pos > 0 {
            self.base_lines += memchr_iter(b'\n', &self.buf[..self.pos]).count() as u64;
            self.buf.copy_within(self.pos..self.len, 0);
            self.base += self.pos as u64;
            self.len -= self.pos;
            self.pos = 0;
        }
        if self.buf.len() - self.len < CHUNK / 4 {
            if self.buf.len() >= MAX_VALUE + CHUNK {
                return Err(self.syntax_here(format!(
                    "a single JSON value is larger than {} MiB; not a CloudTrail event",
                    MAX_VALUE >> 20
                )));
            }
            let grown = (self.buf.len() * 2).min(MAX_VALUE + CHUNK);
            self.buf.resize(grown, 0);
        }
        loop {
            match self.reader.read(&mut self.buf[self.len..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.len += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(ScanError::Io { offset: self.decoded(), error }),
            }
        }
    }

    /// Skips whitespace (and a UTF-8 byte-order mark) and returns the next byte without consuming it.
    pub fn peek(&mut self) -> Result<Option<u8>, ScanError> {
        loop {
            while self.pos < self.len {
                match self.buf[self.pos] {
                    b' ' | b'\t' | b'\n' | b'\r' => self.pos += 1,
                    0xEF if self.offset() == 0 => {
                        if self.len - self.pos < 3 && self.fill()? {
                            continue;
                        }
                        if self.buf[self.pos..self.len].starts_with(&[0xEF, 0xBB, 0xBF]) {
                            self.pos += 3;
                        } else {
                            return Ok(Some(0xEF));
                        }
                    }
                    b => return Ok(Some(b)),
                }
            }
            if !self.fill()? {
                return Ok(None);
            }
        }
    }

    pub fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.len);
    }

    /// The value starting at the current position (after `peek`), which stays unconsumed.
    pub fn slice(&self, len: usize) -> &[u8] {
        &self.buf[self.pos..self.pos + len]
    }

    /// Length of the JSON value starting at the current position. The whole value is in the buffer afterwards.
    pub fn value_len(&mut self) -> Result<usize, ScanError> {
        if self.pos >= self.len && !self.fill()? {
            return Err(self.syntax_here("unexpected end of input: a value was expected"));
        }
        let first = self.buf[self.pos];
        match first {
            b'{' => self.container_len(b'{', b'}'),
            b'[' => self.container_len(b'[', b']'),
            b'"' => self.string_len(),
            _ => self.scalar_len(),
        }
    }

    /// Scans a string starting at `pos + start` (on its opening quote); returns the offset just past its end.
    /// Most CloudTrail strings are short: a byte loop finds their end faster than setting up a vector search.
    fn string_end(&mut self, start: usize) -> Result<usize, ScanError> {
        let from = self.pos + start + 1;
        let short = &self.buf[from..self.len.min(from + SHORT_STRING)];
        // Eight bytes at a time: the lowest byte flagged by `zero_bytes` is exact (higher ones may be noise).
        for (n, chunk) in short.chunks_exact(8).enumerate() {
            let word =
                u64::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3], chunk[4], chunk[5], chunk[6], chunk[7]]);
            let quote = zero_bytes(word ^ (ONES * u64::from(b'"')));
            let special = zero_bytes(word ^ (ONES * u64::from(b'\\'))) | zero_bytes(word ^ (ONES * u64::from(b'\n')));
            if quote | special != 0 {
                let first = (quote | special).trailing_zeros();
                if quote & (1 << first) != 0 {
                    return Ok(start + 1 + n * 8 + (first / 8) as usize + 1);
                }
                break;
            }
        }
        self.long_string_end(start)
    }

    fn long_string_end(&mut self, start: usize) -> Result<usize, ScanError> {
        let mut at = start + 1;
        loop {
            let hay = &self.buf[self.pos + at..self.len];
            match memchr3(b'"', b'\\', b'\n', hay) {
                Some(i) => {
                    let c = hay[i];
                    at += i;
                    match c {
                        b'"' => return Ok(at + 1),
                        b'\\' => {
                            // The escaped byte may not be read yet.
                            while self.pos + at + 1 >= self.len {
                                if !self.fill()? {
                                    return Err(self.eof_inside(start, "string"));
                                }
                            }
                            at += 2;
                        }
                        _ => return Err(self.syntax(self.pos + at, "line break inside a JSON string")),
                    }
                }
                None => {
                    at = self.len - self.pos;
                    if !self.fill()? {
                        return Err(self.eof_inside(start, "string"));
                    }
                }
            }
        }
    }

    fn eof_inside(&self, start: usize, what: &str) -> ScanError {
        let value_line = self.line_at(self.pos + start);
        let value_offset = self.base + (self.pos + start) as u64;
        ScanError::Syntax {
            offset: self.decoded(),
            line: self.line_at(self.len),
            message: format!(
                "unexpected end of input inside a {what} that starts at byte {value_offset} (line {value_line}); the input looks truncated"
            ),
        }
    }

    fn string_len(&mut self) -> Result<usize, ScanError> {
        self.string_end(0)
    }

    /// Between strings, CloudTrail JSON has only a few bytes (`":"`, `","`, `":{"`): a byte loop beats a
    /// vector search there, and strings go to `string_end`.
    fn container_len(&mut self, open: u8, close: u8) -> Result<usize, ScanError> {
        let mut depth = 0usize;
        let mut at = 0usize;
        loop {
            while self.pos + at < self.len {
                let c = self.buf[self.pos + at];
                if c == b'"' {
                    at = self.string_end(at)?;
                    continue;
                }
                if c == open {
                    depth += 1;
                } else if c == close {
                    depth -= 1;
                    if depth == 0 {
                        return Ok(at + 1);
                    }
                }
                at += 1;
            }
            if !self.fill()? {
                let what = if open == b'{' { "JSON object" } else { "JSON array" };
                return Err(self.eof_inside(0, what));
            }
        }
    }

    fn scalar_len(&mut self) -> Result<usize, ScanError> {
        let mut at = 0usize;
        loop {
            while self.pos + at < self.len {
                match self.buf[self.pos + at] {
                    b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r' => return Ok(at),
                    b'-' | b'+' | b'.' | b'0'..=b'9' | b'a'..=b'z' | b'A'..=b'Z' => at += 1,
                    b => {
                        return Err(self.syntax(self.pos + at, format!("unexpected byte `{}`: not JSON", show_byte(b))));
                    }
                }
            }
            if !self.fill()? {
                return Ok(at);
            }
        }
    }

    /// Reads an object key at the current position (a string followed by `:`), consuming both.
    pub fn key(&mut self) -> Result<String, ScanError> {
        if self.peek()? != Some(b'"') {
            return Err(self.syntax_here("an object key was expected"));
        }
        let len = self.string_len()?;
        let key: String = serde_json::from_slice(self.slice(len))
            .map_err(|e| self.syntax_here(format!("invalid object key: {e}")))?;
        self.consume(len);
        self.expect(b':')?;
        Ok(key)
    }

    /// Consumes `byte` (after whitespace) or fails.
    pub fn expect(&mut self, byte: u8) -> Result<(), ScanError> {
        match self.peek()? {
            Some(b) if b == byte => {
                self.consume(1);
                Ok(())
            }
            Some(b) => Err(self.syntax_here(format!("expected `{}` but found `{}`", byte as char, show_byte(b)))),
            None => Err(self.syntax_here(format!("unexpected end of input: expected `{}`", byte as char))),
        }
    }

    /// The first key of the object at the current position, without consuming anything.
    pub fn peek_first_key(&mut self) -> Result<Option<String>, ScanError> {
        let mut at = 1usize;
        loop {
            while self.pos + at < self.len && matches!(self.buf[self.pos + at], b' ' | b'\t' | b'\n' | b'\r') {
                at += 1;
            }
            if self.pos + at < self.len {
                break;
            }
            if !self.fill()? {
                return Err(self.eof_inside(0, "JSON object"));
            }
        }
        if self.buf[self.pos + at] != b'"' {
            return Ok(None);
        }
        let end = self.string_end(at)?;
        Ok(serde_json::from_slice(&self.buf[self.pos + at..self.pos + end]).ok())
    }

    /// After a syntax error in line-oriented input: drop everything up to the next line break after the
    /// current position and carry on from there.
    pub fn skip_line(&mut self) -> Result<(), ScanError> {
        loop {
            if let Some(i) = memchr(b'\n', &self.buf[self.pos..self.len]) {
                self.pos += i + 1;
                return Ok(());
            }
            self.pos = self.len;
            if !self.fill()? {
                return Ok(());
            }
        }
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;

/// The high bit of each zero byte of `x` (exact for the lowest zero byte).
fn zero_bytes(x: u64) -> u64 {
    x.wrapping_sub(ONES) & !x & 0x8080_8080_8080_8080
}

pub fn show_byte(b: u8) -> String {
    if b.is_ascii_graphic() { (b as char).to_string() } else { format!("0x{b:02x}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out one byte at a time, to exercise every refill boundary.
    struct Trickle<'a>(&'a [u8]);
    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() || out.is_empty() {
                return Ok(0);
            }
            out[0] = self.0[0];
            self.0 = &self.0[1..];
            Ok(1)
        }
    }

    fn values(input: &[u8]) -> Vec<String> {
        let mut sc = Scanner::new(Trickle(input));
        let mut out = Vec::new();
        while sc.peek().expect("peek").is_some() {
            let n = sc.value_len().expect("value");
            out.push(String::from_utf8_lossy(sc.slice(n)).into_owned());
            sc.consume(n);
        }
        out
    }

    #[test]
    fn splits_values_with_braces_and_escapes_inside_strings() {
        let input = br#"{"a":"}{\"","b":[1,{"c":"\\"}]} [1,"]",[2]] "x\"y" 12 true"#;
        assert_eq!(values(input), [r#"{"a":"}{\"","b":[1,{"c":"\\"}]}"#, r#"[1,"]",[2]]"#, r#""x\"y""#, "12", "true"]);
    }

    #[test]
    fn strings_of_every_length_with_escapes_at_every_position() {
        for len in 0..70 {
            for esc in 0..=len {
                let mut text: String = "a".repeat(len);
                text.insert_str(esc, "\\\"");
                let object = format!("{{\"k\":\"{text}\",\"n\":[1]}}");
                let input = format!("{object} {object}");
                assert_eq!(values(input.as_bytes()), [object.clone(), object.clone()], "len {len} escape at {esc}");
                let mut sc = Scanner::new(input.as_bytes());
                sc.peek().unwrap();
                assert_eq!(sc.value_len().unwrap(), object.len());
            }
            let broken = format!("{{\"k\":\"{}\n\"}}", "b".repeat(len));
            let mut sc = Scanner::new(broken.as_bytes());
            sc.peek().unwrap();
            assert!(matches!(sc.value_len(), Err(ScanError::Syntax { .. })), "raw line break after {len} bytes");
        }
    }

    #[test]
    fn truncated_object_reports_start_and_line() {
        let mut sc = Scanner::new(&b"\n\n{\"a\": [1, 2"[..]);
        sc.peek().unwrap();
        match sc.value_len() {
            Err(ScanError::Syntax { message, .. }) => {
                assert!(message.contains("starts at byte 2 (line 3)"), "{message}")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn first_key_is_peeked_without_consuming() {
        let mut sc = Scanner::new(Trickle(br#" { "Records" : []}"#));
        assert_eq!(sc.peek().unwrap(), Some(b'{'));
        assert_eq!(sc.peek_first_key().unwrap().as_deref(), Some("Records"));
        let n = sc.value_len().unwrap();
        assert_eq!(sc.slice(n), br#"{ "Records" : []}"#);
    }
}
