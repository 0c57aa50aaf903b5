#!/usr/bin/perl
# mkmmdb.pl OUT.mmdb < "network asn" lines: writes a GeoLite2-ASN-shaped MaxMind DB (IPv6 tree,
# IPv4 aliased into ::ffff:0:0/96 and 2002::/16 as MaxMind's own databases are) with Debian's
# libmaxmind-db-writer-perl, for the LPM unit test.
use strict;
use warnings;
use MaxMind::DB::Writer::Tree;

my $out = shift or die "usage: mkmmdb.pl OUT.mmdb < networks\n";
my %types = (
    autonomous_system_number       => 'uint32',
    autonomous_system_organization => 'utf8_string',
);
my $tree = MaxMind::DB::Writer::Tree->new(
    ip_version               => 6,
    record_size              => 28,
    database_type            => 'GeoLite2-ASN',
    languages                => ['en'],
    description              => { en => 'nfprobe LPM test' },
    map_key_type_callback    => sub { $types{ $_[0] } },
    alias_ipv6_to_ipv4       => 1,
    remove_reserved_networks => 0,
);
while (my $line = <STDIN>) {
    chomp $line;
    next if $line eq '';
    my ($net, $asn) = split /\s+/, $line;
    $tree->insert_network($net, {
        autonomous_system_number       => $asn + 0,
        autonomous_system_organization => "AS$asn",
    });
}
open my $fh, '>:raw', $out or die "$out: $!\n";
$tree->write_tree($fh);
close $fh or die "$out: $!\n";
