//! What a pass computes from ControllerRevisions and the set's template, kept between
//! syncs (see [`RevisionMemo`]): building the candidate revision serialises and hashes the
//! whole template, and applying a revision parses one, on every sync.

use crate::api::pod::PodTemplateSpec;
use crate::api::{ControllerRevision, StatefulSet};
use crate::control::statefulset::revision::{
    new_revision, patch_bytes, revision_template, with_template,
};
use std::borrow::Cow;
use std::cell::OnceCell;
use std::collections::BTreeMap;
use std::rc::Rc;

/// What a pass computes from ControllerRevisions and the set's template, kept while they
/// do not change: the candidate revision of the template (`newRevision`: the template as a
/// JSON patch, hashed), each revision's data bytes (`EqualRevision` compares them), and
/// the template each revision restores (`ApplyRevision`). Each is computed by the
/// `revision` functions a pass without memo calls; a revision's are kept for the very same
/// object (`Rc::ptr_eq`), the candidate for the same serialised template, set identity,
/// annotations and collision count.
#[derive(Debug, Default)]
pub struct RevisionMemo {
    candidate: Option<Candidate>,
    /// Data bytes of this sync's revisions.
    bytes: Vec<(Rc<ControllerRevision>, Vec<u8>)>,
    /// Templates of the revisions applied last.
    templates: Vec<(Rc<ControllerRevision>, Restored)>,
}

/// What `ApplyRevision` takes from a revision: its template (none if the patch has
/// none), or why it cannot be read.
type Restored = Result<Option<Rc<PodTemplateSpec>>, String>;

/// `ApplyRevision(set, revision)` as a pass uses it: the revision's template is read (and
/// a revision that cannot be read fails) at once, but the set with the template applied
/// is built on first use — a pass that creates and repairs no pod never needs it, and
/// building it copies the whole set.
#[derive(Debug)]
pub struct AppliedSet<'s> {
    set: &'s StatefulSet,
    template: Option<Rc<PodTemplateSpec>>,
    applied: OnceCell<StatefulSet>,
}

impl AppliedSet<'_> {
    /// The set with the revision's template.
    pub fn get(&self) -> &StatefulSet {
        self.applied
            .get_or_init(|| with_template(self.set, self.template.as_deref()))
    }

    #[cfg(test)]
    pub fn into_set(self) -> StatefulSet {
        self.get();
        self.applied.into_inner().expect("built above")
    }
}

/// How many restored templates [`RevisionMemo`] keeps (a pass applies two revisions).
const KEPT_TEMPLATES: usize = 4;

#[derive(Debug)]
struct Candidate {
    /// What `newRevision` reads from the set: its template (serialised: the same bytes
    /// serialise to the same patch), name, uid and annotations; and the collision count.
    /// `None` when the template does not serialise (then it is never reused).
    template: Option<Vec<u8>>,
    /// The template itself: an equal template (field by field; the API types compare
    /// every field) serialises to the same bytes, so it is recognised without
    /// serialising it again on every sync.
    template_value: PodTemplateSpec,
    name: String,
    uid: String,
    annotations: BTreeMap<String, String>,
    collision_count: i32,
    /// `newRevision` of revision number 0 (the caller sets the number), and its bytes.
    revision: ControllerRevision,
    bytes: Vec<u8>,
}

impl Candidate {
    /// Whether the set's template serialises to this candidate's (serialised) template.
    fn has_template(&self, set: &StatefulSet) -> bool {
        self.template.is_some() && self.template_value == set.spec.template
    }

    /// The rest of what `newRevision` reads besides the template.
    fn is_for_set(&self, set: &StatefulSet, collision_count: i32) -> bool {
        let meta = &set.metadata;
        self.collision_count == collision_count
            && self.name == meta.name
            && self.uid == meta.uid
            && self.annotations == meta.annotations
    }
}

impl RevisionMemo {
    /// Brings the memo up to a pass of `set` over `revisions`: the candidate for the set's
    /// template and `collision_count`, and the data bytes of every revision.
    pub fn prepare(
        &mut self,
        set: &StatefulSet,
        collision_count: i32,
        revisions: &[Rc<ControllerRevision>],
    ) -> Result<(), String> {
        let kept = self.candidate.as_ref();
        let reuse = kept.is_some_and(|c| c.has_template(set) && c.is_for_set(set, collision_count));
        if !reuse {
            // Built afresh, as a pass without the memo does: the same revision whenever
            // the reuse test was only too strict.
            let template = serde_json::to_vec(&set.spec.template).ok();
            self.candidate = None;
            let revision = new_revision(set, 0, collision_count)?;
            let meta = &set.metadata;
            self.candidate = Some(Candidate {
                template,
                template_value: set.spec.template.clone(),
                name: meta.name.clone(),
                uid: meta.uid.clone(),
                annotations: meta.annotations.clone(),
                collision_count,
                bytes: patch_bytes(&revision.data),
                revision,
            });
        }
        let stale = |(r, _): &(Rc<ControllerRevision>, Vec<u8>)| {
            !revisions.iter().any(|l| Rc::ptr_eq(l, r))
        };
        if self.bytes.iter().any(stale) {
            self.bytes.retain(|e| !stale(e));
        }
        for r in revisions {
            if !self.bytes.iter().any(|(k, _)| Rc::ptr_eq(k, r)) {
                self.bytes.push((Rc::clone(r), patch_bytes(&r.data)));
            }
        }
        Ok(())
    }

    /// The candidate of [`RevisionMemo::prepare`] (its revision number is 0) and its bytes.
    pub fn candidate(&self) -> (&ControllerRevision, &[u8]) {
        let c = self.candidate.as_ref().expect("prepare() ran");
        (&c.revision, &c.bytes)
    }

    /// [`patch_bytes`] of a revision's data: kept for the revisions of the last
    /// [`RevisionMemo::prepare`], computed for any other.
    pub fn bytes(&self, revision: &ControllerRevision) -> Cow<'_, [u8]> {
        match self
            .bytes
            .iter()
            .find(|(r, _)| std::ptr::eq(Rc::as_ptr(r), revision))
        {
            Some((_, bytes)) => Cow::Borrowed(bytes),
            None => Cow::Owned(patch_bytes(&revision.data)),
        }
    }

    /// [`apply_revision`](super::revision::apply_revision) with the revision's template
    /// parsed once.
    #[cfg(test)]
    pub fn apply_revision(
        &mut self,
        set: &StatefulSet,
        revision: &Rc<ControllerRevision>,
    ) -> Result<StatefulSet, String> {
        self.applied_revision(set, revision)
            .map(AppliedSet::into_set)
    }

    /// [`apply_revision`](super::revision::apply_revision) with the revision's template
    /// parsed once, and the set built when first used ([`AppliedSet`]).
    pub fn applied_revision<'s>(
        &mut self,
        set: &'s StatefulSet,
        revision: &Rc<ControllerRevision>,
    ) -> Result<AppliedSet<'s>, String> {
        let pos = match self
            .templates
            .iter()
            .position(|(r, _)| Rc::ptr_eq(r, revision))
        {
            Some(pos) => pos,
            None => {
                if self.templates.len() == KEPT_TEMPLATES {
                    self.templates.drain(..1);
                }
                let template = revision_template(revision).map(|t| t.map(Rc::new));
                self.templates.push((Rc::clone(revision), template));
                self.templates.len() - 1
            }
        };
        let template = self.templates[pos].1.as_ref().map_err(Clone::clone)?;
        Ok(AppliedSet {
            set,
            template: template.clone(),
            applied: OnceCell::new(),
        })
    }
}
