"""Sandbox servers over real loopback sockets."""
