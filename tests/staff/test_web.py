"""The console's HTTP plumbing: the client's address behind proxies, the module layout."""

import ast
import ipaddress
import re
from pathlib import Path

import pytest

from infra.clients import forwarded_client
from staff.settings import LOCALHOST, StaffSettings

ROOT = Path(__file__).resolve().parents[2]
PROXIES = (*LOCALHOST, ipaddress.ip_network("10.0.0.0/24"))


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        ("203.0.113.5", [], "203.0.113.5"),  # no proxy
        ("203.0.113.5", ["6.6.6.6"], "203.0.113.5"),  # an untrusted peer's header is ignored
        ("127.0.0.1", [], "127.0.0.1"),
        ("127.0.0.1", ["198.51.100.7"], "198.51.100.7"),  # nginx overwrote it
        ("127.0.0.1", ["6.6.6.6, 198.51.100.7"], "198.51.100.7"),  # a client's value first
        ("127.0.0.1", ["6.6.6.6", "198.51.100.7"], "198.51.100.7"),  # two header lines
        ("127.0.0.1", ["6.6.6.6, 198.51.100.7, 10.0.0.3"], "198.51.100.7"),  # two proxies
        ("127.0.0.1", ["10.0.0.4, 10.0.0.3"], "10.0.0.4"),  # only proxies: the farthest
        ("127.0.0.1", ["6.6.6.6, not-an-ip"], "127.0.0.1"),  # garbage ends the walk
        ("127.0.0.1", ["6.6.6.6, 198.51.100.7:443"], "127.0.0.1"),
        ("::1", ["2001:db8::1"], "2001:db8::1"),
        ("::ffff:127.0.0.1", ["198.51.100.7"], "198.51.100.7"),  # IPv4-mapped peer
        (None, ["198.51.100.7"], "unknown"),
    ],
)
def test_the_client_is_the_right_most_untrusted_hop(peer, forwarded, client):
    assert forwarded_client(peer, forwarded, PROXIES) == client


def test_no_trusted_proxy_means_the_socket_peer():
    assert forwarded_client("127.0.0.1", ["198.51.100.7"], ()) == "127.0.0.1"


def test_trusted_proxies_come_from_the_registry():
    assert StaffSettings.from_env({}).trusted_proxies == LOCALHOST
    nets = StaffSettings.from_env({"MOTCUA_TRUSTED_PROXIES": "10.1.0.0/16, ::1"}).trusted_proxies
    assert [str(n) for n in nets] == ["10.1.0.0/16", "::1/128"]
    assert StaffSettings.from_env({"MOTCUA_TRUSTED_PROXIES": "none"}).trusted_proxies == ()
    with pytest.raises(ValueError, match="MOTCUA_TRUSTED_PROXIES"):
        StaffSettings.from_env({"MOTCUA_TRUSTED_PROXIES": "localhost"})


def test_nginx_overwrites_forwarded_for_on_the_staff_port():
    """nginx sets the client's address itself; appending would pass the client's own on."""
    template = (ROOT / "deploy" / "nginx.conf.tmpl").read_text(encoding="utf-8")
    staff = template[template.index("listen {{ staff_listen }}") :]
    staff = staff[: staff.index("\n    }\n")]
    headers = re.findall(r"proxy_set_header\s+X-Forwarded-For\s+(\S+);", staff)
    assert headers == ["$remote_addr"]


def _staff_imports(module: str) -> set[str]:
    tree = ast.parse((ROOT / "staff" / f"{module}.py").read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):  # module level and inside functions alike
        if isinstance(node, ast.ImportFrom) and node.module:
            found |= {node.module} | {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return {n.split(".")[1] for n in found if n.startswith("staff.")}


def test_no_import_cycle_between_the_staff_modules():
    modules = {p.stem for p in (ROOT / "staff").glob("*.py") if p.stem != "__init__"}
    graph = {m: _staff_imports(m) & modules for m in modules}
    assert "server" not in graph["pages"] and "server" not in graph["web"]

    def reach(start: str) -> set[str]:
        seen, todo = set(), list(graph[start])
        while todo:
            m = todo.pop()
            if m not in seen:
                seen.add(m)
                todo += graph[m]
        return seen

    assert [m for m in sorted(modules) if m in reach(m)] == []
