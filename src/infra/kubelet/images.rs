//! A node's images: what the scenario says each image does, which images the node already
//! has, the pull back-off, and the serial puller (`serializeImagePulls: true`, the kubelet
//! default: one pull at a time per node, the others wait in line).
//!
//! Ports `pkg/kubelet/images/image_manager.go` (`EnsureImageExists`, the decisions) and
//! `puller.go` (`serialImagePuller`, the queue). The pod worker drives the decisions; this
//! type keeps the node-wide state they need.

use super::backoff::Backoff;
use crate::rng::{Latency, SimRng};
use crate::scenario::{ImageBehavior, ImageSpec, Timing};
use crate::time::{SimDuration, SimTime};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// Who asked for a pull: a container of a pod worker (at a worker generation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PullRequest {
    pub uid: String,
    pub generation: u64,
    pub container: usize,
    pub image: String,
    /// When the pod worker asked (the `Pulling` Event); the wait in line counts from here.
    pub requested_at: SimTime,
}

/// A pull that has finished.
#[derive(Clone, Debug)]
pub struct PullOutcome {
    pub request: PullRequest,
    /// The pull itself.
    pub pulled_in: SimDuration,
    /// The pull plus the wait in line.
    pub total: SimDuration,
    /// The CRI error, for images that fail to pull.
    pub error: Option<String>,
}

#[derive(Clone, Debug)]
struct ActivePull {
    request: PullRequest,
    started_at: SimTime,
    error: Option<String>,
}

pub struct ImageManager {
    catalog: BTreeMap<String, ImageSpec>,
    default_pull: Latency,
    default_shutdown: Latency,
    present: BTreeSet<String>,
    /// `imageManager.backOff`, keyed `<pod uid>_<image>`.
    backoff: Backoff,
    /// The last pull error per back-off key, for the `ImagePullBackOff` waiting message.
    last_error: BTreeMap<String, String>,
    queue: VecDeque<PullRequest>,
    current: Option<ActivePull>,
}

impl ImageManager {
    pub fn new(images: &[ImageSpec], timing: &Timing) -> Self {
        ImageManager {
            catalog: images
                .iter()
                .map(|i| (i.image.clone(), i.clone()))
                .collect(),
            default_pull: timing.default_image_pull,
            default_shutdown: timing.default_shutdown,
            present: BTreeSet::new(),
            backoff: Backoff::kubelet(),
            last_error: BTreeMap::new(),
            queue: VecDeque::new(),
            current: None,
        }
    }

    /// What the image does when run; images the scenario does not describe are healthy.
    pub fn behavior(&self, image: &str) -> ImageBehavior {
        self.catalog
            .get(image)
            .map_or(ImageBehavior::Healthy, |i| i.behavior)
    }

    /// Time from SIGTERM to exit for containers of this image.
    pub fn shutdown(&self, image: &str) -> Latency {
        self.catalog
            .get(image)
            .map_or(self.default_shutdown, |i| i.shutdown)
    }

    fn pull_latency(&self, image: &str) -> Latency {
        self.catalog
            .get(image)
            .map_or(self.default_pull, |i| i.pull)
    }

    /// `GetImageRef` found the image on the node.
    pub fn is_present(&self, image: &str) -> bool {
        self.present.contains(image)
    }

    /// `IsInBackOffSinceUpdate` for this pod and image: `Some(end of the window)` while in it.
    pub fn backoff_until(&self, uid: &str, image: &str, now: SimTime) -> Option<SimTime> {
        let key = backoff_key(uid, image);
        self.backoff
            .is_in_backoff_since_update(&key, now)
            .then(|| self.backoff.update_window_end(&key))
            .flatten()
    }

    /// The error of the last failed pull of `image` for this pod.
    pub fn last_error(&self, uid: &str, image: &str) -> &str {
        self.last_error
            .get(&backoff_key(uid, image))
            .map_or("", String::as_str)
    }

    /// Puts a pull in line (`serialImagePuller.pullImage`).
    pub fn enqueue(&mut self, request: PullRequest) {
        self.queue.push_back(request);
    }

    /// Starts the next pull in line if the puller is idle; returns how long it will take.
    /// An image that arrived on the node while the request waited takes no time.
    pub fn start_next(&mut self, now: SimTime, rng: &mut SimRng) -> Option<SimDuration> {
        if self.current.is_some() {
            return None;
        }
        let request = self.queue.pop_front()?;
        let (took, error) = if self.present.contains(&request.image) {
            (SimDuration::ZERO, None)
        } else {
            let took = rng.duration(&self.pull_latency(&request.image));
            let fails = self.behavior(&request.image) == ImageBehavior::PullError;
            (took, fails.then(|| not_found_error(&request.image)))
        };
        self.current = Some(ActivePull {
            request,
            started_at: now,
            error,
        });
        Some(took)
    }

    /// The machine lost power: queued and running pulls are gone; pulled images stay on
    /// disk.
    pub fn power_off(&mut self) {
        self.queue.clear();
        self.current = None;
    }

    /// The current pull has finished: the image is on the node, or the pull failed and the
    /// pod's back-off for this image moves one step (`backOff.Next`).
    pub fn finish(&mut self, now: SimTime) -> PullOutcome {
        let pull = self
            .current
            .take()
            .expect("a PullDone timer is only set while a pull runs");
        let request = pull.request;
        let key = backoff_key(&request.uid, &request.image);
        match &pull.error {
            Some(err) => {
                self.backoff.next(&key, now, now);
                self.last_error.insert(key, err.clone());
            }
            None => {
                self.present.insert(request.image.clone());
                self.backoff.gc(now);
                self.last_error
                    .retain(|k, _| self.backoff.get(k) > SimDuration::ZERO);
            }
        }
        PullOutcome {
            pulled_in: now.saturating_since(pull.started_at),
            total: now.saturating_since(request.requested_at),
            request,
            error: pull.error,
        }
    }
}

fn backoff_key(uid: &str, image: &str) -> String {
    format!("{uid}_{image}")
}

/// A stable, plausible compressed image size for the `Pulled` message (the scenario does
/// not model sizes; a hash keeps it fixed per image without drawing from any stream).
pub fn image_size_bytes(image: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in image.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    20_000_000 + h % 180_000_000
}

/// The error containerd returns for a reference that does not resolve, as the CRI passes
/// it through (`rpc error: code = NotFound ...`).
fn not_found_error(image: &str) -> String {
    let full = normalized_reference(image);
    format!(
        "rpc error: code = NotFound desc = failed to pull and unpack image \"{full}\": failed to resolve reference \"{full}\": {full}: not found"
    )
}

/// The fully qualified reference containerd reports (`redis:7.2` →
/// `docker.io/library/redis:7.2`), following the docker reference normalisation rules.
pub fn normalized_reference(image: &str) -> String {
    let (first, _) = image.split_once('/').unwrap_or(("", image));
    let has_domain = first.contains('.') || first.contains(':') || first == "localhost";
    let mut full = if has_domain {
        image.to_string()
    } else if image.contains('/') {
        format!("docker.io/{image}")
    } else {
        format!("docker.io/library/{image}")
    };
    let last = full.rsplit('/').next().unwrap_or("");
    if !last.contains(':') && !full.contains('@') {
        full.push_str(":latest");
    }
    full
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_normalise_like_docker() {
        let cases = [
            ("redis:7.2", "docker.io/library/redis:7.2"),
            ("redis", "docker.io/library/redis:latest"),
            ("bitnami/redis:7", "docker.io/bitnami/redis:7"),
            ("registry.k8s.io/pause:3.10", "registry.k8s.io/pause:3.10"),
            ("localhost:5000/app", "localhost:5000/app:latest"),
        ];
        for (given, want) in cases {
            assert_eq!(normalized_reference(given), want, "{given}");
        }
    }

    #[test]
    fn the_puller_runs_one_pull_at_a_time() {
        let timing = Timing {
            default_image_pull: Latency::Fixed(SimDuration::from_secs(2)),
            ..Timing::default()
        };
        let mut m = ImageManager::new(&[], &timing);
        let mut rng = crate::rng::RngStreams::new(1).stream("t");
        let req = |uid: &str, image: &str| PullRequest {
            uid: uid.into(),
            generation: 0,
            container: 0,
            image: image.into(),
            requested_at: SimTime::ZERO,
        };
        m.enqueue(req("a", "x:1"));
        m.enqueue(req("b", "x:1"));
        let t0 = SimTime::ZERO;
        assert_eq!(m.start_next(t0, &mut rng), Some(SimDuration::from_secs(2)));
        assert_eq!(m.start_next(t0, &mut rng), None, "busy");
        let t2 = t0 + SimDuration::from_secs(2);
        assert!(m.finish(t2).error.is_none());
        assert!(m.is_present("x:1"));
        // The second request finds the image already there.
        assert_eq!(m.start_next(t2, &mut rng), Some(SimDuration::ZERO));
        let out = m.finish(t2);
        assert_eq!(out.total, SimDuration::from_secs(2));
        assert_eq!(out.pulled_in, SimDuration::ZERO);
    }
}
