//! Open data writers (DESIGN §7), pure: they turn versions, units and amendments into
//! published formats and never touch a database or the network.
//!
//! - `akn`: Akoma Ntoso 3.0 XML for bill versions (`bill`) and amendments (`amendment`
//!   with its `activeModifications`), and a reader for the round trip.

pub mod akn;
