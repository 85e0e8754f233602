//! writeonce (in progress)
