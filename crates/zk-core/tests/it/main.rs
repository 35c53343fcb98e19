//! Integration tests of zk-core: the codec against frames captured from a real ZooKeeper 3.8,
//! and the wire client against a scripted server.

mod codec_props;
mod hostile;
mod mock_server;
mod vectors;
mod wire_client;
