//! The gRPC service over `proto/` (not built yet; issue #4).
