"""network.community_id in flow records against tshark's own Community ID post-dissector
(an independent implementation), on captures without tunnels."""
import os
import shutil
import subprocess

import pytest

import flowcmp as fc

CAPTURES = [
    "zeek/wikipedia.pcap", "zeek/icmp/5-pings.pcap", "zeek/ssh/ssh.pcap",
    "ndpi/http_ipv6.pcap", "suricata-verify/community-id-ipv6/input.pcap",
    "zeek/dns-edns-ecs.pcap", "ndpi/esp.pcapng", "zeek/pppoe.pcap",
]


@pytest.mark.parametrize("cap", CAPTURES)
def test_community_id_matches_tshark(cap):
    if not shutil.which("tshark"):
        pytest.skip("SKIP LOUDLY: tshark is not installed (tools/install-deps installs it)")
    path = os.path.join(fc.ROOT, "pcaps", cap)
    p = subprocess.run(["tshark", "-n", "-r", path, "--enable-protocol", "communityid",
                        "-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE",
                        # later fragments carry no ports: tshark hashes them without,
                        # egressd counts them in their first fragment's flow
                        "-Y", "!(ip.frag_offset > 0) && !(ipv6.fraghdr.offset > 0)",
                        "-T", "fields", "-e", "communityid"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    theirs = {x for line in p.stdout.splitlines() for x in line.split(",") if x}
    assert theirs, "tshark computed no Community ID"
    _, recs = fc.flows_of(path)
    ours = {r["network"]["community_id"] for r in recs}
    assert ours == theirs
