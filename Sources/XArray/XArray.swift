// The sparse in-memory store (a Linux-xarray-like sparse array keyed by
// UInt64). It knows nothing of KHO. Its implementation arrives with the
// xarray issue; the module exists so that the layer graph is in place.
