//! The network side: UDP server sockets, the interface table, receiving
//! (with coalescing under load) and transmitting replies, layer-2 unicast.

pub mod coalesce;
pub mod interfaces;
pub mod l2;
pub mod receive;
pub mod socket;
pub mod transmit;
