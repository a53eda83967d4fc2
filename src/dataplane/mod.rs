//! The data plane: workers serving deployed APIs from an in-memory compiled configuration.
//! (Server, resolution and the request pipeline arrive module by module; the route tree is here.)

pub mod router;
