//! Integration tests of zk-core: the codec against frames captured from a real ZooKeeper 3.8.

mod codec_props;
mod vectors;
