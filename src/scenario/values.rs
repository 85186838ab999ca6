//! Scalar values of stsim's scenario schema that need parsing: Go durations, latency
//! distributions and the Kubernetes version. Each parses while it is decoded, so a bad
//! value is reported at its own line and column.

use super::de::with_hint;
use crate::rng::Latency;
use crate::time::{SimDuration, parse_duration};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use std::fmt;

/// Lowest and highest `1.N` accepted for `kubernetesVersion`.
pub const MIN_KUBE_MINOR: u32 = 28;
pub const MAX_KUBE_MINOR: u32 = 37;

/// A Go duration such as `90s` or `1h30m`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GoDuration(pub SimDuration);

/// Parses with [`parse_duration`], refusing absurdly long numbers before they can overflow.
pub fn parse_go_duration(text: &str) -> Result<SimDuration, String> {
    let longest_run = text
        .split(|c: char| !c.is_ascii_digit())
        .map(str::len)
        .max()
        .unwrap_or(0);
    if longest_run > 20 {
        return Err(format!("invalid duration {text:?}: number too large"));
    }
    parse_duration(text).map_err(|e| e.to_string())
}

impl<'de> Deserialize<'de> for GoDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = GoDuration;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration such as \"90s\", \"5m\" or \"1h30m\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<GoDuration, E> {
                parse_go_duration(v).map(GoDuration).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<GoDuration, E> {
                if v == 0 {
                    return Ok(GoDuration(SimDuration::ZERO));
                }
                Err(E::custom(with_hint(
                    format!("a duration needs a unit, found the bare number {v}"),
                    format!("write \"{v}s\" for seconds, \"{v}m\" for minutes"),
                )))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<GoDuration, E> {
                self.visit_i64(i64::try_from(v).unwrap_or(i64::MAX))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<GoDuration, E> {
                Err(E::custom(with_hint(
                    format!("a duration needs a unit, found the bare number {v}"),
                    format!("write \"{v}s\" for seconds"),
                )))
            }
        }
        d.deserialize_any(V)
    }
}

/// A latency: a duration (fixed) or a distribution map.
#[derive(Clone, Debug, PartialEq)]
pub struct LatencyInput(pub Latency);

/// The map form of a latency; which keys are given picks the distribution.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LatencyMap {
    median: Option<GoDuration>,
    sigma: Option<f64>,
    min: Option<GoDuration>,
    max: Option<GoDuration>,
    mean: Option<GoDuration>,
}

const LATENCY_FORMS: &str = "a latency is a duration (\"3s\") or one of {median: 2s, sigma: 0.5}, {min: 1s, max: 4s}, {mean: 2s}";

impl LatencyMap {
    fn into_latency(self) -> Result<Latency, String> {
        match self {
            LatencyMap {
                median: Some(median),
                sigma: Some(sigma),
                min: None,
                max: None,
                mean: None,
            } => {
                if !sigma.is_finite() || sigma < 0.0 {
                    return Err(format!("sigma must be a finite number >= 0, found {sigma}"));
                }
                Ok(Latency::LogNormal {
                    median: median.0,
                    sigma,
                })
            }
            LatencyMap {
                min: Some(min),
                max: Some(max),
                median: None,
                sigma: None,
                mean: None,
            } => {
                if min.0 > max.0 {
                    return Err(format!("min ({}) is larger than max ({})", min.0, max.0));
                }
                Ok(Latency::Uniform {
                    min: min.0,
                    max: max.0,
                })
            }
            LatencyMap {
                mean: Some(mean),
                median: None,
                sigma: None,
                min: None,
                max: None,
            } => Ok(Latency::Exponential { mean: mean.0 }),
            _ => Err(with_hint(
                "this combination of keys is not a latency",
                LATENCY_FORMS,
            )),
        }
    }
}

impl<'de> Deserialize<'de> for LatencyInput {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = LatencyInput;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(LATENCY_FORMS)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<LatencyInput, E> {
                parse_go_duration(v)
                    .map(|d| LatencyInput(Latency::Fixed(d)))
                    .map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<LatencyInput, E> {
                GoDuration::deserialize(de::value::I64Deserializer::<E>::new(v))
                    .map(|d| LatencyInput(Latency::Fixed(d.0)))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<LatencyInput, E> {
                self.visit_i64(i64::try_from(v).unwrap_or(i64::MAX))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<LatencyInput, E> {
                GoDuration::deserialize(de::value::F64Deserializer::<E>::new(v))
                    .map(|d| LatencyInput(Latency::Fixed(d.0)))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<LatencyInput, A::Error> {
                let raw = LatencyMap::deserialize(de::value::MapAccessDeserializer::new(map))?;
                raw.into_latency()
                    .map(LatencyInput)
                    .map_err(de::Error::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// `kubernetesVersion`: a quoted `"1.N"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KubeVersionInput(pub crate::scenario::model::KubeVersion);

/// Parses `"1.N"` with N in the supported range.
pub fn parse_kube_version(text: &str) -> Result<crate::scenario::model::KubeVersion, String> {
    let range = format!("supported versions are 1.{MIN_KUBE_MINOR} to 1.{MAX_KUBE_MINOR}");
    let t = text.trim().trim_start_matches('v');
    let (major, minor) = t
        .split_once('.')
        .and_then(|(a, b)| Some((a.parse::<u32>().ok()?, b.parse::<u32>().ok()?)))
        .ok_or_else(|| {
            with_hint(
                format!("invalid Kubernetes version {text:?}"),
                format!("write \"1.N\"; {range}"),
            )
        })?;
    if major != 1 || !(MIN_KUBE_MINOR..=MAX_KUBE_MINOR).contains(&minor) {
        return Err(with_hint(
            format!("unsupported Kubernetes version {text:?}"),
            range,
        ));
    }
    Ok(crate::scenario::model::KubeVersion { major, minor })
}

impl<'de> Deserialize<'de> for KubeVersionInput {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = KubeVersionInput;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a quoted version such as \"1.36\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<KubeVersionInput, E> {
                parse_kube_version(v)
                    .map(KubeVersionInput)
                    .map_err(E::custom)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<KubeVersionInput, E> {
                Err(E::custom(with_hint(
                    format!("kubernetesVersion must be a quoted string, found the number {v}"),
                    "quote it, e.g. kubernetesVersion: \"1.30\" (unquoted, 1.30 is the number 1.3)",
                )))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<KubeVersionInput, E> {
                self.visit_f64(v as f64)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<KubeVersionInput, E> {
                self.visit_f64(v as f64)
            }
        }
        d.deserialize_any(V)
    }
}
