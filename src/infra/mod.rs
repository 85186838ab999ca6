//! The physical world: nodes and the agents on them. Infra components talk to the control
//! plane only through API objects, as in a real cluster; they never read controller state.

pub mod apps;
pub mod csi;
pub mod faults;
pub mod kubelet;
pub mod network;
