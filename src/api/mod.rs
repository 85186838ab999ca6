//! The Kubernetes object subset the simulator models, as plain serde data with the real
//! API's field names, plus the typed tables every view of the cluster is made of.
//!
//! Objects are shared as `Rc<T>`: the API server, the watch log and every informer cache
//! hold the same allocation until a write replaces it.

pub mod coordination;
pub mod discovery;
pub mod event;
pub mod indexed_table;
pub mod key_ref;
pub mod meta;
pub mod node;
pub mod pod;
pub mod quantity;
pub mod scalar;
pub mod scheduling;
pub mod schema;
pub mod selector;
pub mod service;
pub mod statefulset;
pub mod storage;
pub mod table;
pub mod volume;

pub use coordination::Lease;
pub use discovery::EndpointSlice;
pub use event::K8sEvent;
pub use meta::{ObjectMeta, ObjectReference, OwnerReference, Timestamp};
pub use node::Node;
pub use pod::Pod;
pub use scalar::{IntOrString, Quantity};
pub use selector::LabelSelector;
pub use service::{PodDisruptionBudget, Service};
pub use statefulset::{ControllerRevision, StatefulSet};
pub use storage::{
    CSINode, CSIStorageCapacity, PersistentVolume, PersistentVolumeClaim, StorageClass,
    VolumeAttachment,
};

pub use indexed_table::IndexedTable;
pub use table::ObjectTable;

use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt;
use std::rc::Rc;

/// The kinds of object the API server stores.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Node,
    Pod,
    PersistentVolumeClaim,
    PersistentVolume,
    StorageClass,
    StatefulSet,
    ControllerRevision,
    Service,
    PodDisruptionBudget,
    VolumeAttachment,
    CSINode,
    EndpointSlice,
    Lease,
    CSIStorageCapacity,
}

impl Kind {
    /// Every stored kind, in a fixed order.
    pub const ALL: [Kind; 14] = [
        Kind::Node,
        Kind::Pod,
        Kind::PersistentVolumeClaim,
        Kind::PersistentVolume,
        Kind::StorageClass,
        Kind::StatefulSet,
        Kind::ControllerRevision,
        Kind::Service,
        Kind::PodDisruptionBudget,
        Kind::VolumeAttachment,
        Kind::CSINode,
        Kind::EndpointSlice,
        Kind::Lease,
        Kind::CSIStorageCapacity,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Node => "Node",
            Kind::Pod => "Pod",
            Kind::PersistentVolumeClaim => "PersistentVolumeClaim",
            Kind::PersistentVolume => "PersistentVolume",
            Kind::StorageClass => "StorageClass",
            Kind::StatefulSet => "StatefulSet",
            Kind::ControllerRevision => "ControllerRevision",
            Kind::Service => "Service",
            Kind::PodDisruptionBudget => "PodDisruptionBudget",
            Kind::VolumeAttachment => "VolumeAttachment",
            Kind::CSINode => "CSINode",
            Kind::EndpointSlice => "EndpointSlice",
            Kind::Lease => "Lease",
            Kind::CSIStorageCapacity => "CSIStorageCapacity",
        }
    }
    /// The group-qualified plural resource, as API errors name it (`statefulsets.apps`).
    pub fn resource(self) -> &'static str {
        match self {
            Kind::Node => "nodes",
            Kind::Pod => "pods",
            Kind::PersistentVolumeClaim => "persistentvolumeclaims",
            Kind::PersistentVolume => "persistentvolumes",
            Kind::StorageClass => "storageclasses.storage.k8s.io",
            Kind::StatefulSet => "statefulsets.apps",
            Kind::ControllerRevision => "controllerrevisions.apps",
            Kind::Service => "services",
            Kind::PodDisruptionBudget => "poddisruptionbudgets.policy",
            Kind::VolumeAttachment => "volumeattachments.storage.k8s.io",
            Kind::CSINode => "csinodes.storage.k8s.io",
            Kind::EndpointSlice => "endpointslices.discovery.k8s.io",
            Kind::Lease => "leases.coordination.k8s.io",
            Kind::CSIStorageCapacity => "csistoragecapacities.storage.k8s.io",
        }
    }
    /// The short lower-case name kubectl prints before a slash (`statefulset/web`).
    pub fn short(self) -> &'static str {
        match self {
            Kind::Node => "node",
            Kind::Pod => "pod",
            Kind::PersistentVolumeClaim => "persistentvolumeclaim",
            Kind::PersistentVolume => "persistentvolume",
            Kind::StorageClass => "storageclass",
            Kind::StatefulSet => "statefulset",
            Kind::ControllerRevision => "controllerrevision",
            Kind::Service => "service",
            Kind::PodDisruptionBudget => "poddisruptionbudget",
            Kind::VolumeAttachment => "volumeattachment",
            Kind::CSINode => "csinode",
            Kind::EndpointSlice => "endpointslice",
            Kind::Lease => "lease",
            Kind::CSIStorageCapacity => "csistoragecapacity",
        }
    }
    pub fn api_version(self) -> &'static str {
        match self {
            Kind::StatefulSet | Kind::ControllerRevision => "apps/v1",
            Kind::StorageClass
            | Kind::VolumeAttachment
            | Kind::CSINode
            | Kind::CSIStorageCapacity => "storage.k8s.io/v1",
            Kind::PodDisruptionBudget => "policy/v1",
            Kind::EndpointSlice => "discovery.k8s.io/v1",
            Kind::Lease => "coordination.k8s.io/v1",
            _ => "v1",
        }
    }
    pub fn is_cluster_scoped(self) -> bool {
        matches!(
            self,
            Kind::Node
                | Kind::PersistentVolume
                | Kind::StorageClass
                | Kind::VolumeAttachment
                | Kind::CSINode
        )
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Namespace and name; the namespace is empty for cluster-scoped objects. Ordered by
/// namespace, then name, each byte-wise (as the derived order of two `String`s would be;
/// see `key_ref::cmp_str` for why the comparison is written out).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct ObjectKey {
    pub namespace: String,
    pub name: String,
}

impl PartialOrd for ObjectKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ObjectKey {
    #[inline]
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        key_ref::cmp_parts(
            (&self.namespace, &self.name),
            (&other.namespace, &other.name),
        )
    }
}

impl ObjectKey {
    pub fn new(namespace: &str, name: &str) -> Self {
        ObjectKey {
            namespace: namespace.into(),
            name: name.into(),
        }
    }
    pub fn cluster(name: &str) -> Self {
        ObjectKey {
            namespace: String::new(),
            name: name.into(),
        }
    }
    pub fn of(meta: &ObjectMeta) -> Self {
        ObjectKey::new(&meta.namespace, &meta.name)
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.namespace.is_empty() {
            f.write_str(&self.name)
        } else {
            write!(f, "{}/{}", self.namespace, self.name)
        }
    }
}

/// The table most kinds are kept in (see `table.rs` for the one that is not).
pub type Table<T> = BTreeMap<ObjectKey, Rc<T>>;

/// One table per kind: the API server's storage and every informer cache have this shape.
#[derive(Clone, Debug, Default)]
pub struct Tables {
    /// Nodes, Pods, claims, volumes and VolumeAttachments, the kinds written and looked
    /// up most after Leases, are found by key without a tree search too
    /// (`indexed_table.rs`).
    pub nodes: IndexedTable<Node>,
    pub pods: IndexedTable<Pod>,
    pub pvcs: IndexedTable<PersistentVolumeClaim>,
    pub pvs: IndexedTable<PersistentVolume>,
    pub storage_classes: Table<StorageClass>,
    pub stateful_sets: Table<StatefulSet>,
    pub controller_revisions: Table<ControllerRevision>,
    pub services: Table<Service>,
    pub pdbs: Table<PodDisruptionBudget>,
    pub volume_attachments: IndexedTable<VolumeAttachment>,
    pub csi_nodes: Table<CSINode>,
    pub endpoint_slices: Table<EndpointSlice>,
    /// Found by key without a tree search (`indexed_table.rs`): every renewal is looked up.
    pub leases: IndexedTable<Lease>,
    pub csi_storage_capacities: Table<CSIStorageCapacity>,
}

impl Tables {
    pub fn get<T: Resource>(&self, key: &ObjectKey) -> Option<&Rc<T>> {
        T::table(self).get(key)
    }
    pub fn list<T: Resource>(&self) -> impl Iterator<Item = &Rc<T>> {
        T::table(self).values()
    }
    /// Objects of a namespace, in name order.
    pub fn list_in<'a, T: Resource>(
        &'a self,
        namespace: &'a str,
    ) -> impl Iterator<Item = &'a Rc<T>> + 'a {
        T::table(self).values_in(namespace)
    }
    /// Puts or removes one object, as a watch event describes it; returns the object it
    /// replaced or removed, if any (what an informer's update handler receives as `old`).
    pub fn apply(&mut self, obj: &AnyObject, removed: bool) -> Option<AnyObject> {
        fn put<T: Resource>(table: &mut T::Table, rc: &Rc<T>, removed: bool) -> Option<Rc<T>> {
            if removed {
                let meta = rc.meta();
                return table.remove_by_parts(&meta.namespace, &meta.name);
            }
            table.put(Rc::clone(rc))
        }
        macro_rules! put {
            ($rc:expr, $variant:ident) => {
                put(Resource::table_mut_of($rc.as_ref(), self), $rc, removed)
                    .map(AnyObject::$variant)
            };
        }
        match obj {
            AnyObject::Node(o) => put!(o, Node),
            AnyObject::Pod(o) => put!(o, Pod),
            AnyObject::PersistentVolumeClaim(o) => put!(o, PersistentVolumeClaim),
            AnyObject::PersistentVolume(o) => put!(o, PersistentVolume),
            AnyObject::StorageClass(o) => put!(o, StorageClass),
            AnyObject::StatefulSet(o) => put!(o, StatefulSet),
            AnyObject::ControllerRevision(o) => put!(o, ControllerRevision),
            AnyObject::Service(o) => put!(o, Service),
            AnyObject::PodDisruptionBudget(o) => put!(o, PodDisruptionBudget),
            AnyObject::VolumeAttachment(o) => put!(o, VolumeAttachment),
            AnyObject::CSINode(o) => put!(o, CSINode),
            AnyObject::EndpointSlice(o) => put!(o, EndpointSlice),
            AnyObject::Lease(o) => put!(o, Lease),
            AnyObject::CSIStorageCapacity(o) => put!(o, CSIStorageCapacity),
        }
    }
}

/// Runs `$body` with the type alias `$T` bound to the Rust type of the stored kind `$kind`,
/// for code that is generic over kinds but receives a `Kind` value.
#[macro_export]
macro_rules! with_kind {
    ($kind:expr, $T:ident => $body:expr) => {
        match $kind {
            $crate::api::Kind::Node => {
                type $T = $crate::api::Node;
                $body
            }
            $crate::api::Kind::Pod => {
                type $T = $crate::api::Pod;
                $body
            }
            $crate::api::Kind::PersistentVolumeClaim => {
                type $T = $crate::api::PersistentVolumeClaim;
                $body
            }
            $crate::api::Kind::PersistentVolume => {
                type $T = $crate::api::PersistentVolume;
                $body
            }
            $crate::api::Kind::StorageClass => {
                type $T = $crate::api::StorageClass;
                $body
            }
            $crate::api::Kind::StatefulSet => {
                type $T = $crate::api::StatefulSet;
                $body
            }
            $crate::api::Kind::ControllerRevision => {
                type $T = $crate::api::ControllerRevision;
                $body
            }
            $crate::api::Kind::Service => {
                type $T = $crate::api::Service;
                $body
            }
            $crate::api::Kind::PodDisruptionBudget => {
                type $T = $crate::api::PodDisruptionBudget;
                $body
            }
            $crate::api::Kind::VolumeAttachment => {
                type $T = $crate::api::VolumeAttachment;
                $body
            }
            $crate::api::Kind::CSINode => {
                type $T = $crate::api::CSINode;
                $body
            }
            $crate::api::Kind::EndpointSlice => {
                type $T = $crate::api::EndpointSlice;
                $body
            }
            $crate::api::Kind::Lease => {
                type $T = $crate::api::Lease;
                $body
            }
            $crate::api::Kind::CSIStorageCapacity => {
                type $T = $crate::api::CSIStorageCapacity;
                $body
            }
        }
    };
}

/// Any stored object, shared.
#[derive(Clone, Debug)]
pub enum AnyObject {
    Node(Rc<Node>),
    Pod(Rc<Pod>),
    PersistentVolumeClaim(Rc<PersistentVolumeClaim>),
    PersistentVolume(Rc<PersistentVolume>),
    StorageClass(Rc<StorageClass>),
    StatefulSet(Rc<StatefulSet>),
    ControllerRevision(Rc<ControllerRevision>),
    Service(Rc<Service>),
    PodDisruptionBudget(Rc<PodDisruptionBudget>),
    VolumeAttachment(Rc<VolumeAttachment>),
    CSINode(Rc<CSINode>),
    EndpointSlice(Rc<EndpointSlice>),
    Lease(Rc<Lease>),
    CSIStorageCapacity(Rc<CSIStorageCapacity>),
}

macro_rules! any_dispatch {
    ($self:expr, $o:ident => $e:expr) => {
        match $self {
            AnyObject::Node($o) => $e,
            AnyObject::Pod($o) => $e,
            AnyObject::PersistentVolumeClaim($o) => $e,
            AnyObject::PersistentVolume($o) => $e,
            AnyObject::StorageClass($o) => $e,
            AnyObject::StatefulSet($o) => $e,
            AnyObject::ControllerRevision($o) => $e,
            AnyObject::Service($o) => $e,
            AnyObject::PodDisruptionBudget($o) => $e,
            AnyObject::VolumeAttachment($o) => $e,
            AnyObject::CSINode($o) => $e,
            AnyObject::EndpointSlice($o) => $e,
            AnyObject::Lease($o) => $e,
            AnyObject::CSIStorageCapacity($o) => $e,
        }
    };
}

impl AnyObject {
    pub fn kind(&self) -> Kind {
        any_dispatch!(self, o => Resource::kind_of(o.as_ref()))
    }
    pub fn meta(&self) -> &ObjectMeta {
        any_dispatch!(self, o => o.meta())
    }
    /// Serialises the whole object into `out` as JSON.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        any_dispatch!(self, o => serde_json::to_writer(out, o.as_ref()).expect("API objects always serialise"))
    }
    /// Serialises the whole object with `s` (the trace embeds it in its line this way).
    pub fn serialize_with<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        any_dispatch!(self, o => Serialize::serialize(o.as_ref(), s))
    }
    pub fn as_pod(&self) -> Option<&Rc<Pod>> {
        match self {
            AnyObject::Pod(p) => Some(p),
            _ => None,
        }
    }
}

/// What every stored kind offers the generic store, informers and traces.
pub trait Resource: Clone + Serialize + PartialEq + fmt::Debug + 'static {
    const KIND: Kind;
    /// The type of table the kind is kept in (`table.rs`).
    type Table: ObjectTable<Self>;
    fn meta(&self) -> &ObjectMeta;
    fn meta_mut(&mut self) -> &mut ObjectMeta;
    fn table(t: &Tables) -> &Self::Table;
    fn table_mut(t: &mut Tables) -> &mut Self::Table;
    fn wrap(rc: Rc<Self>) -> AnyObject;
    /// Whether `other` has the same desired state (spec); a change bumps `generation`.
    fn same_spec(&self, other: &Self) -> bool;
    /// Replaces this object's status with `other`'s (the status subresource).
    fn take_status_from(&mut self, other: &Self);
    /// Whether `other` has the same status (then taking it would change nothing).
    fn same_status(&self, other: &Self) -> bool;
    /// A copy of this object with `other`'s status: what a status write stores. Kinds with
    /// a status build it field by field, so that the status being replaced is not copied
    /// first (a pod or node status write is mostly this copy).
    fn with_status_of(&self, other: &Self) -> Self {
        let mut next = self.clone();
        next.take_status_from(other);
        next
    }
    /// [`Resource::with_status_of`] for a request the caller gives up: kinds built field by
    /// field move its status in rather than copy it.
    fn with_status_moved_from(&self, other: Self) -> Self {
        self.with_status_of(&other)
    }
    fn kind_of(&self) -> Kind {
        Self::KIND
    }
    fn table_mut_of<'a>(&self, t: &'a mut Tables) -> &'a mut Self::Table {
        Self::table_mut(t)
    }
}

macro_rules! resource {
    ($ty:ty, $kind:ident, $field:ident, spec: $($spec:ident),* ; status: $($status:ident),* $(; kept: $($kept:ident),*)?) => {
        resource!($ty, $kind, $field: Table<$ty>, spec: $($spec),* ; status: $($status),* $(; kept: $($kept),*)?);
    };
    ($ty:ty, $kind:ident, $field:ident : $table:ty, spec: $($spec:ident),* ; status: $($status:ident),* $(; kept: $($kept:ident),*)?) => {
        impl Resource for $ty {
            const KIND: Kind = Kind::$kind;
            type Table = $table;
            fn meta(&self) -> &ObjectMeta { &self.metadata }
            fn meta_mut(&mut self) -> &mut ObjectMeta { &mut self.metadata }
            fn table(t: &Tables) -> &$table { &t.$field }
            fn table_mut(t: &mut Tables) -> &mut $table { &mut t.$field }
            fn wrap(rc: Rc<Self>) -> AnyObject { AnyObject::$kind(rc) }
            #[allow(unused_variables)]
            fn same_spec(&self, other: &Self) -> bool { true $(&& self.$spec == other.$spec)* }
            #[allow(unused_variables)]
            fn take_status_from(&mut self, other: &Self) { $(self.$status = other.$status.clone();)* }
            #[allow(unused_variables)]
            fn same_status(&self, other: &Self) -> bool { true $(&& self.$status == other.$status)* }
            $(
            // `kept` names every field but `status`, so that a field added to the kind must
            // be added here.
            fn with_status_of(&self, other: &Self) -> Self {
                Self { $($kept: self.$kept.clone(),)* status: other.status.clone() }
            }
            fn with_status_moved_from(&self, other: Self) -> Self {
                Self { $($kept: self.$kept.clone(),)* status: other.status }
            }
            )?
        }
    };
}

resource!(Node, Node, nodes: IndexedTable<Node>, spec: spec; status: status; kept: api_version, kind, metadata, spec);
resource!(Pod, Pod, pods: IndexedTable<Pod>, spec: spec; status: status; kept: api_version, kind, metadata, spec);
resource!(PersistentVolumeClaim, PersistentVolumeClaim, pvcs: IndexedTable<PersistentVolumeClaim>, spec: spec; status: status; kept: api_version, kind, metadata, spec);
resource!(PersistentVolume, PersistentVolume, pvs: IndexedTable<PersistentVolume>, spec: spec; status: status; kept: api_version, kind, metadata, spec);
resource!(StorageClass, StorageClass, storage_classes, spec: provisioner, parameters, reclaim_policy, volume_binding_mode, allow_volume_expansion, allowed_topologies; status: );
resource!(StatefulSet, StatefulSet, stateful_sets, spec: spec; status: status; kept: api_version, kind, metadata, spec);
resource!(ControllerRevision, ControllerRevision, controller_revisions, spec: data, revision; status: );
resource!(Service, Service, services, spec: spec; status: );
resource!(PodDisruptionBudget, PodDisruptionBudget, pdbs, spec: spec; status: status; kept: api_version, kind, metadata, spec);
resource!(VolumeAttachment, VolumeAttachment, volume_attachments: IndexedTable<VolumeAttachment>, spec: spec; status: status; kept: api_version, kind, metadata, spec);
resource!(CSINode, CSINode, csi_nodes, spec: spec; status: );
resource!(EndpointSlice, EndpointSlice, endpoint_slices, spec: address_type, endpoints, ports; status: );
resource!(Lease, Lease, leases: IndexedTable<Lease>, spec: spec; status: );
resource!(CSIStorageCapacity, CSIStorageCapacity, csi_storage_capacities, spec: node_topology, storage_class_name, capacity, maximum_volume_size; status: );
