//! Offline CloudTrail: exported files, directory trees and standard input, recognised by content.
//!
//! Accepted, in any mix, plain or gzip (also multi-member): S3 log files (`{"Records":[…]}`), directory trees in
//! the S3 delivery layout (`AWSLogs/[o-org/]<acct>/CloudTrail/<region>/YYYY/MM/DD/*.json.gz`; digest files are
//! recognised and skipped), `lookup-events` output (`{"Events":[{"CloudTrailEvent":"<json>"}]}`, also several
//! pages concatenated), CloudTrail Lake `get-query-results` output, JSON lines (or a JSON array) of events.
//!
//! Throughput: files are scanned in parallel; inside a file the decoded bytes stream through a splitter that
//! finds each record's extent and fully parses only records containing the bytes `errorCode`. The record's
//! top-level `errorCode` is then checked, so the word nested in `requestParameters` or `responseElements` is
//! never mistaken for an error. Memory stays bounded: one read chunk plus one record per worker.

mod lake;
mod scanner;

use super::{EventFilter, ScanOutcome, ScanStats, TrailSource};
use crate::model::InputError;
use crate::model::event::TrailEvent;
use flate2::bufread::MultiGzDecoder;
use memchr::memmem;
use rayon::prelude::*;
use scanner::{ScanError, Scanner, show_byte};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::cell::Cell;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// First keys of the wrapper objects we stream into: S3 log files, lookup-events pages, Lake result pages.
const CONTAINER_KEYS: &[&str] =
    &["Records", "Events", "NextToken", "QueryStatus", "QueryStatistics", "QueryResultRows", "ErrorMessage"];
/// Keys whose array value holds the events.
const EVENT_ARRAYS: &[&str] = &["Records", "Events", "QueryResultRows"];

/// Exported CloudTrail files, directories and `-` (standard input).
#[derive(Debug, Clone)]
pub struct OfflineTrail {
    inputs: Vec<String>,
}

impl OfflineTrail {
    pub fn new(inputs: Vec<String>) -> Self {
        OfflineTrail { inputs }
    }
}

enum Input {
    Stdin,
    File(PathBuf),
}

impl Input {
    fn name(&self) -> String {
        match self {
            Input::Stdin => "-".into(),
            Input::File(p) => p.display().to_string(),
        }
    }
}

fn input_error(input: &str, message: String) -> InputError {
    InputError { input: input.to_string(), message, offset: None, line: None }
}

/// Expands directories (recursively, in name order; dot-files skipped) into files.
fn expand(inputs: &[String], errors: &mut Vec<InputError>) -> Vec<Input> {
    let mut out = Vec::new();
    for input in inputs {
        if input == "-" {
            out.push(Input::Stdin);
            continue;
        }
        let path = Path::new(input);
        match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => walk(path, &mut out, errors),
            Ok(_) => out.push(Input::File(path.to_path_buf())),
            Err(e) => errors.push(input_error(input, format!("cannot read `{input}`: {e}"))),
        }
    }
    out
}

fn walk(dir: &Path, out: &mut Vec<Input>, errors: &mut Vec<InputError>) {
    let name = dir.display().to_string();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => return errors.push(input_error(&name, format!("cannot list directory `{name}`: {e}"))),
    };
    let mut paths: Vec<PathBuf> = Vec::new();
    for entry in entries {
        match entry {
            Ok(entry) if entry.file_name().to_string_lossy().starts_with('.') => {}
            Ok(entry) => paths.push(entry.path()),
            Err(e) => errors.push(input_error(&name, format!("cannot list directory `{name}`: {e}"))),
        }
    }
    paths.sort();
    for path in paths {
        match std::fs::metadata(&path) {
            Ok(m) if m.is_dir() => walk(&path, out, errors),
            Ok(m) if m.is_file() => out.push(Input::File(path)),
            Ok(_) => {}
            Err(e) => {
                let p = path.display().to_string();
                errors.push(input_error(&p, format!("cannot read `{p}`: {e}")));
            }
        }
    }
}

/// Counts bytes read from the raw input (the compressed size for gzip).
struct Counting<R> {
    inner: R,
    count: Rc<Cell<u64>>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.set(self.count.get() + n as u64);
        Ok(n)
    }
}

/// What the scan of one input found, merged into the shared counters at the end.
#[derive(Default)]
struct FileScan {
    events: u64,
    error_events: u64,
    matched: u64,
    digest: bool,
    /// Top-level objects are events (JSON lines or concatenated events): a syntax error skips one line.
    line_mode: bool,
    first_error: Option<InputError>,
    more_errors: u64,
}

struct Shared<'a> {
    filter: &'a EventFilter,
    sink: &'a (dyn Fn(TrailEvent, &str) + Sync),
    error_code: memmem::Finder<'static>,
    cloudtrail_event: memmem::Finder<'static>,
    bytes_read: AtomicU64,
    bytes_decoded: AtomicU64,
    events: AtomicU64,
    error_events: AtomicU64,
    matched: AtomicU64,
    digests: AtomicU64,
    errors: Mutex<Vec<InputError>>,
}

#[derive(Deserialize)]
struct LookupEvent {
    #[serde(rename = "CloudTrailEvent")]
    cloud_trail_event: String,
}

/// Why one record could not be parsed; `line`/`column` are relative to the record's first byte.
struct BadRecord {
    message: String,
    line: usize,
    column: Option<usize>,
}

impl BadRecord {
    fn new(what: &str, e: &serde_json::Error) -> Self {
        BadRecord { message: format!("{what}: {}", Self::what(e)), line: e.line().max(1), column: Some(e.column()) }
    }

    /// serde's message without its own (record-relative) position.
    fn what(e: &serde_json::Error) -> String {
        let text = e.to_string();
        text.rsplit_once(" at line ").map(|(m, _)| m.to_string()).unwrap_or(text)
    }
}

enum Flow {
    Continue,
    /// The input is a CloudTrail digest file: nothing to analyse.
    Digest,
}

/// One input's scan: the splitter, the per-file tallies, and the input's name for messages.
struct FileScanner<'s, 'a, R> {
    sc: Scanner<R>,
    shared: &'s Shared<'a>,
    name: &'s str,
    state: FileScan,
}

impl<R: Read> FileScanner<'_, '_, R> {
    fn fail(&mut self, error: ScanError, compressed: Option<u64>) {
        let name = self.name;
        let err = match error {
            ScanError::Io { offset, error } => {
                let near = compressed.map(|c| format!(" (near compressed byte {c})")).unwrap_or_default();
                let what = match (compressed.is_some(), error.kind()) {
                    (true, io::ErrorKind::UnexpectedEof) => "gzip stream is truncated".to_string(),
                    (true, _) => format!("gzip stream is corrupt: {error}"),
                    (false, _) => error.to_string(),
                };
                InputError {
                    input: name.to_string(),
                    message: format!("cannot read `{name}` after {offset} decoded bytes{near}: {what}"),
                    offset: Some(offset),
                    line: None,
                }
            }
            ScanError::Syntax { offset, line, message } => InputError {
                input: name.to_string(),
                message: format!("cannot read `{name}` at byte {offset} (line {line}): {message}"),
                offset: Some(offset),
                line: Some(line),
            },
        };
        match self.state.first_error {
            None => self.state.first_error = Some(err),
            Some(_) => self.state.more_errors += 1,
        }
    }

    /// Scans every top-level JSON document in the input.
    fn run(&mut self, compressed: &dyn Fn() -> Option<u64>) {
        let mut documents = 0u64;
        loop {
            let next = match self.sc.peek() {
                Ok(None) => break,
                Ok(Some(b)) => b,
                Err(e) => {
                    self.fail(e, compressed());
                    break;
                }
            };
            documents += 1;
            let result = match next {
                b'{' => self.top_object(),
                b'[' => self.array(),
                b => Err(self.sc.syntax_here(format!("unexpected byte `{}`: not JSON", show_byte(b)))),
            };
            match result {
                Ok(Flow::Continue) => {}
                Ok(Flow::Digest) => {
                    self.state.digest = true;
                    return;
                }
                Err(e) => {
                    let resync = self.state.line_mode && matches!(e, ScanError::Syntax { .. });
                    self.fail(e, compressed());
                    if !resync || self.sc.skip_line().is_err() {
                        break;
                    }
                }
            }
        }
        if documents == 0 && self.state.first_error.is_none() {
            let name = self.name;
            self.state.first_error = Some(InputError {
                input: name.to_string(),
                message: format!("cannot read `{name}` at byte 0: the input is empty (no JSON in it)"),
                offset: Some(0),
                line: Some(1),
            });
        }
    }

    fn top_object(&mut self) -> Result<Flow, ScanError> {
        let first_key = self.sc.peek_first_key()?;
        if first_key.as_deref().is_some_and(|k| CONTAINER_KEYS.contains(&k)) {
            return self.container();
        }
        let n = self.sc.value_len()?;
        let slice = self.sc.slice(n);
        let is_event = ["\"eventName\"", "\"eventSource\"", "\"eventID\"", "\"CloudTrailEvent\""]
            .iter()
            .any(|needle| memmem::find(slice, needle.as_bytes()).is_some());
        if is_event {
            self.state.line_mode = true;
            self.element(n)?;
            self.sc.consume(n);
            return Ok(Flow::Continue);
        }
        if memmem::find(slice, b"\"digestStartTime\"").is_some() && memmem::find(slice, b"\"logFiles\"").is_some() {
            return Ok(Flow::Digest);
        }
        let key = first_key.map(|k| format!(" (first key `{k}`)")).unwrap_or_default();
        Err(self.sc.syntax_here(format!(
            "a JSON object of another shape{key}: expected CloudTrail events, `Records`, `Events` or `QueryResultRows`"
        )))
    }

    /// A wrapper object (S3 log file, lookup-events page, Lake result page): streams its event array.
    fn container(&mut self) -> Result<Flow, ScanError> {
        self.sc.expect(b'{')?;
        let mut keys = Vec::new();
        let mut found = false;
        if self.sc.peek()? == Some(b'}') {
            self.sc.consume(1);
        } else {
            loop {
                let key = self.sc.key()?;
                let value_start = self.sc.peek()?;
                if EVENT_ARRAYS.contains(&key.as_str()) && value_start == Some(b'[') {
                    found = true;
                    self.array()?;
                } else {
                    let n = self.sc.value_len()?;
                    self.sc.consume(n);
                }
                keys.push(key);
                match self.sc.peek()? {
                    Some(b',') => self.sc.consume(1),
                    Some(b'}') => {
                        self.sc.consume(1);
                        break;
                    }
                    Some(b) => {
                        return Err(self.sc.syntax_here(format!("expected `,` or `}}` but found `{}`", show_byte(b))));
                    }
                    None => return Err(self.sc.syntax_here("unexpected end of input inside the top-level object")),
                }
            }
        }
        if found {
            return Ok(Flow::Continue);
        }
        let keys = keys.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ");
        Err(self.sc.syntax_here(format!(
            "a JSON object of another shape (keys {keys}): no `Records`, `Events` or `QueryResultRows` array"
        )))
    }

    /// Streams the elements of the array at the current position.
    fn array(&mut self) -> Result<Flow, ScanError> {
        self.sc.expect(b'[')?;
        if self.sc.peek()? == Some(b']') {
            self.sc.consume(1);
            return Ok(Flow::Continue);
        }
        loop {
            if self.sc.peek()?.is_none() {
                return Err(self.sc.syntax_here("unexpected end of input inside an array of events"));
            }
            let n = self.sc.value_len()?;
            self.element(n)?;
            self.sc.consume(n);
            match self.sc.peek()? {
                Some(b',') => self.sc.consume(1),
                Some(b']') => {
                    self.sc.consume(1);
                    return Ok(Flow::Continue);
                }
                Some(b) => {
                    return Err(self.sc.syntax_here(format!("expected `,` or `]` but found `{}`", show_byte(b))));
                }
                None => return Err(self.sc.syntax_here("unexpected end of input inside an array of events")),
            }
        }
    }

    /// One event (record, lookup-events element or Lake row) of `n` bytes at the current position.
    /// A record that cannot be parsed is reported, and the scan goes on with the next one.
    fn element(&mut self, n: usize) -> Result<(), ScanError> {
        self.state.events += 1;
        let slice = self.sc.slice(n);
        if !matches!(slice.first(), Some(b'{' | b'[')) {
            return Err(self.sc.syntax_here("an array element is not a JSON object: not a CloudTrail event"));
        }
        // Cheap pre-check: a record without the bytes `errorCode` anywhere cannot have failed.
        if self.shared.error_code.find(slice).is_none() {
            return Ok(());
        }
        match self.parse_event(slice) {
            Ok(event) => {
                // Only a top-level `errorCode` counts; serde saw nested ones as part of other fields.
                if event.error_code.is_none() {
                    return Ok(());
                }
                self.state.error_events += 1;
                if self.shared.filter.matches(&event) {
                    self.state.matched += 1;
                    (self.shared.sink)(event, self.name);
                }
            }
            Err(problem) => {
                let err = self.sc.syntax_in_value(problem.message, problem.line, problem.column);
                self.fail(err, None);
            }
        }
        Ok(())
    }

    fn parse_event(&self, slice: &[u8]) -> Result<TrailEvent, BadRecord> {
        if slice[0] == b'[' {
            let row: Vec<Map<String, Value>> =
                serde_json::from_slice(slice).map_err(|e| BadRecord::new("invalid CloudTrail Lake result row", &e))?;
            return Ok(lake::event_from_row(&row));
        }
        if self.shared.cloudtrail_event.find(slice).is_some()
            && let Ok(wrapper) = serde_json::from_slice::<LookupEvent>(slice)
        {
            // Positions inside the embedded string say nothing about the file: report the element's start.
            return serde_json::from_str(&wrapper.cloud_trail_event).map_err(|e| BadRecord {
                message: format!(
                    "invalid `CloudTrailEvent` string in a lookup-events element: {}",
                    BadRecord::what(&e)
                ),
                line: 1,
                column: None,
            });
        }
        serde_json::from_slice(slice).map_err(|e| BadRecord::new("invalid CloudTrail event", &e))
    }
}

impl Shared<'_> {
    fn scan(&self, input: &Input) {
        let name = input.name();
        let count = Rc::new(Cell::new(0u64));
        let raw: Box<dyn Read> = match input {
            Input::Stdin => Box::new(Counting { inner: io::stdin().lock(), count: count.clone() }),
            Input::File(path) => match File::open(path) {
                Ok(f) => Box::new(Counting { inner: f, count: count.clone() }),
                Err(e) => return self.push_error(input_error(&name, format!("cannot open `{name}`: {e}"))),
            },
        };
        let mut buffered = BufReader::with_capacity(128 * 1024, raw);
        let is_gzip = match buffered.fill_buf() {
            Ok(head) => head.starts_with(&[0x1f, 0x8b]),
            Err(e) => return self.push_error(input_error(&name, format!("cannot read `{name}`: {e}"))),
        };
        let reader: Box<dyn Read> = if is_gzip { Box::new(MultiGzDecoder::new(buffered)) } else { Box::new(buffered) };
        let mut file = FileScanner { sc: Scanner::new(reader), shared: self, name: &name, state: FileScan::default() };
        let compressed = || is_gzip.then(|| count.get());
        file.run(&compressed);
        self.bytes_read.fetch_add(count.get(), Ordering::Relaxed);
        self.bytes_decoded.fetch_add(file.sc.decoded(), Ordering::Relaxed);
        let state = file.state;
        if state.digest {
            self.digests.fetch_add(1, Ordering::Relaxed);
            return;
        }
        self.events.fetch_add(state.events, Ordering::Relaxed);
        self.error_events.fetch_add(state.error_events, Ordering::Relaxed);
        self.matched.fetch_add(state.matched, Ordering::Relaxed);
        if let Some(mut err) = state.first_error {
            if state.more_errors > 0 {
                err.message.push_str(&format!(" (and {} more problem(s) further on)", state.more_errors));
            }
            self.push_error(err);
        }
    }

    fn push_error(&self, err: InputError) {
        if let Ok(mut errors) = self.errors.lock() {
            errors.push(err);
        }
    }
}

impl TrailSource for OfflineTrail {
    fn error_events(&self, filter: &EventFilter, sink: &(dyn Fn(TrailEvent, &str) + Sync)) -> ScanOutcome {
        let mut errors = Vec::new();
        let inputs = expand(&self.inputs, &mut errors);
        let shared = Shared {
            filter,
            sink,
            error_code: memmem::Finder::new(b"errorCode"),
            cloudtrail_event: memmem::Finder::new(b"\"CloudTrailEvent\""),
            bytes_read: AtomicU64::new(0),
            bytes_decoded: AtomicU64::new(0),
            events: AtomicU64::new(0),
            error_events: AtomicU64::new(0),
            matched: AtomicU64::new(0),
            digests: AtomicU64::new(0),
            errors: Mutex::new(errors),
        };
        // Standard input first (it cannot be split), then every file in parallel.
        inputs.iter().filter(|i| matches!(i, Input::Stdin)).for_each(|i| shared.scan(i));
        inputs.par_iter().filter(|i| matches!(i, Input::File(_))).for_each(|i| shared.scan(i));
        let mut errors = shared.errors.into_inner().unwrap_or_else(|poisoned| poisoned.into_inner());
        errors.sort_by(|a, b| a.input.cmp(&b.input).then(a.offset.cmp(&b.offset)));
        let mut failed: Vec<&str> = errors.iter().map(|e| e.input.as_str()).collect();
        failed.dedup();
        let unexpanded = errors.len() - errors.iter().filter(|e| inputs.iter().any(|i| i.name() == e.input)).count();
        ScanOutcome {
            stats: ScanStats {
                inputs: (inputs.len() + unexpanded) as u64,
                inputs_with_errors: failed.len() as u64,
                bytes_read: shared.bytes_read.into_inner(),
                bytes_decoded: shared.bytes_decoded.into_inner(),
                events_scanned: shared.events.into_inner(),
                error_events: shared.error_events.into_inner(),
                events_matched: shared.matched.into_inner(),
                digest_files_skipped: shared.digests.into_inner(),
            },
            errors,
        }
    }
}
