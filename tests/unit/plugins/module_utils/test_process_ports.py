"""Who listens where: the /proc/net/tcp{,6} tables read by _process."""

from __future__ import annotations

from ansible_collections.moana.orchestration.plugins.module_utils import _process as P

TCP = """  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0
   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 222 1 0000000000000000 100 0 0 10 0
   2: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 333 1 0000000000000000 20 4 30 10 -1
"""
TCP6 = """  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:1F91 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  0  0 444 1
   1: 00000000000000000000000000000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  0  0 555 1
"""


def test_listening_sockets_are_read_with_their_address_port_and_inode():
    assert P.parse_listeners(TCP) == [("127.0.0.1", 8080, 12345), ("0.0.0.0", 22, 222)]


def test_an_established_connection_is_not_a_listener():
    assert 333 not in [inode for dummy, dummy2, inode in P.parse_listeners(TCP)]


def test_ipv6_addresses_are_read_word_by_word():
    assert P.parse_listeners(TCP6) == [("::1", 8081, 444), ("::", 80, 555)]


def test_a_header_alone_lists_nothing():
    assert P.parse_listeners(TCP.splitlines()[0]) == []
