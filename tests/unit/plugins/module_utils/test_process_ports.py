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


def test_loopback_is_127_0_0_0_8_and_the_ipv6_loopback_and_its_mapped_form():
    for host in ("127.0.0.1", "127.1.2.3", "127.255.255.254", "::1", "::ffff:127.0.0.1", "::ffff:127.9.9.9"):
        assert P.is_loopback(host), host
    for host in ("0.0.0.0", "::", "10.0.0.5", "192.168.1.2", "::ffff:0.0.0.0", "::ffff:10.0.0.1", "fe80::1",
                 "128.0.0.1", "not an address", ""):
        assert not P.is_loopback(host), host


def test_a_process_listens_where_its_own_sockets_do():
    table = P.parse_listeners(TCP) + P.parse_listeners(TCP6)
    assert P.owned_listeners(table, {12345, 444}) == [("127.0.0.1", 8080), ("::1", 8081)]
    assert P.owned_listeners(table, {222, 555, 999}) == [("0.0.0.0", 22), ("::", 80)]
    assert P.owned_listeners(table, set()) == []


def test_only_the_addresses_beyond_loopback_are_exposed_ipv6_in_brackets():
    addresses = [("127.0.0.1", 8080), ("0.0.0.0", 8080), ("::1", 8081), ("::", 8081), ("::ffff:127.0.0.1", 9)]
    assert P.exposed(addresses) == ["0.0.0.0:8080", "[::]:8081"]
    assert P.address_text("::1", 80) == "[::1]:80" and P.address_text("127.0.0.1", 80) == "127.0.0.1:80"


def test_an_exposed_process_is_named_with_its_address_and_the_fix():
    text = P.exposure_problem("antigravity-proxy", ["0.0.0.0:8080"])
    assert text.startswith("antigravity-proxy listens on 0.0.0.0:8080, which other machines can reach")
    assert "NODE_OPTIONS=--require loopback-only.js" in text and "orchestration_proxy_loopback_only: false" in text


def test_listen_must_be_any_or_loopback():
    import pytest

    assert P.Spec("p", ["true"]).listen == "any"
    with pytest.raises(P.ProcessError, match="listen 'everywhere' is not one of any, loopback"):
        P.Spec("p", ["true"], listen="everywhere")
