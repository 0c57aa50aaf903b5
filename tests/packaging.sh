#!/bin/sh
# packaging.sh - the packaging files as their tools read them, and what `make install` and the
# Debian package put on a system:
#   - systemd-analyze verify on the generated nfprobe.service (ExecStart pointed at the built
#     binary so the check that it exists is real) prints nothing; groff renders every man page
#     without a warning;
#   - `make install DESTDIR=...`: the programs, a man page for each, the configuration, the
#     unit, the IPFIX registry files, <nfprobe/plugin.h> and nfprobe-plugin.pc (a plugin built
#     with its --cflags loads into nfprobe and adds its column; its plugindir holds the example
#     plugins); a second install keeps an edited configuration (the new one goes beside it as
#     nfprobe.conf.default); `make uninstall` removes every file but the edited configuration;
#   - the .deb from `dpkg-buildpackage -us -uc -b` (in a copy of the source tree): lintian finds
#     no error, and unpacked into a scratch root it holds the same files, the configuration as
#     a conffile, and its nfprobe runs. This part takes about a minute: it runs when
#     NFPROBE_TEST_DEB=1, or when NFPROBE_TEST_DEB is unset and this is not a sanitizer build.
# Skips (77) the parts whose tools are missing.
: "${SRCDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
. "$(dirname "$0")/golden/lib.sh"
scratch
fails=0 ran=0

if command -v systemd-analyze >/dev/null 2>&1; then
    ran=1
    unit="$BUILDDIR/nfprobe.service"
    if [ ! -f "$unit" ]; then
        echo "FAIL $unit was not generated"; fails=$((fails + 1))
    else
        # Same unit, but the binary it starts is the one just built.
        sed "s|^ExecStart=[^ ]*|ExecStart=$NFPROBE|" "$unit" >"$TMP/nfprobe.service"
        grep -q "^ExecStart=$NFPROBE -C /" "$TMP/nfprobe.service" || {
            echo "FAIL ExecStart not in the expected form:"; grep '^ExecStart' "$unit"; exit 1; }
        # --man=no: the man page is not installed yet; it is checked below.
        out=$(systemd-analyze verify --man=no "$TMP/nfprobe.service" 2>&1); rc=$?
        if [ $rc -eq 0 ] && [ -z "$out" ]; then
            echo "ok   systemd-analyze verify nfprobe.service"
        else
            echo "FAIL systemd-analyze verify (status $rc):"; echo "$out" | sed 's/^/  /'
            fails=$((fails + 1))
        fi
        for key in AmbientCapabilities=CAP_NET_RAW CapabilityBoundingSet=CAP_NET_RAW \
                   NoNewPrivileges=yes ProtectSystem=strict DynamicUser=yes; do
            grep -q "^$key" "$unit" || { echo "FAIL $key missing"; fails=$((fails + 1)); }
        done
    fi
fi

if command -v groff >/dev/null 2>&1; then
    ran=1
    out=$(groff -man -Tutf8 -ww -z "$SRCDIR/etc/nfprobe.8" 2>&1)
    if [ -z "$out" ]; then echo "ok   groff renders nfprobe.8 without warnings"
    else echo "FAIL groff warnings:"; echo "$out" | sed 's/^/  /'; fails=$((fails + 1)); fi
fi

if command -v groff >/dev/null 2>&1; then
    out=$(groff -man -Tutf8 -ww -z "$SRCDIR/etc/nfprobe-plugin-registry.1" 2>&1)
    if [ -z "$out" ]; then echo "ok   groff renders nfprobe-plugin-registry.1 without warnings"
    else echo "FAIL groff warnings:"; echo "$out" | sed 's/^/  /'; fails=$((fails + 1)); fi
fi

bad() { echo "FAIL $*"; fails=$((fails + 1)); }
ok() { echo "ok   $*"; }

# ---------------------------------------------------------------- make install / uninstall
prefix=$(sed -n 's/^prefix = //p' "$BUILDDIR/Makefile")
sysconfdir=$(sed -n 's/^sysconfdir = //p' "$BUILDDIR/Makefile" | sed "s|\${prefix}|$prefix|")
libdir=$(sed -n 's/^libdir = //p' "$BUILDDIR/Makefile" | sed "s|\${exec_prefix}|$prefix|")
D=$TMP/dest
P=$D$prefix
if [ -n "$prefix" ] && make -s -C "$BUILDDIR" install DESTDIR="$D" >"$TMP/install.log" 2>&1; then
    ran=1
    missing=
    for f in bin/nfprobe bin/nfprobe-plugin-registry share/man/man8/nfprobe.8 \
        share/man/man1/nfprobe-plugin-registry.1 share/nfprobe/nfprobe-ie.xml \
        share/nfprobe/nfprobe.iespec share/nfprobe/default.tmpl include/nfprobe/plugin.h; do
        [ -f "$P/$f" ] || missing="$missing $f"
    done
    [ -f "$D$sysconfdir/nfprobe/nfprobe.conf" ] || missing="$missing nfprobe.conf"
    [ -f "$D$libdir/pkgconfig/nfprobe-plugin.pc" ] || missing="$missing nfprobe-plugin.pc"
    find "$D" -name nfprobe.service | grep -q . || missing="$missing nfprobe.service"
    if [ -z "$missing" ]; then ok "make install: programs, man pages, configuration, unit, registry, header, .pc"
    else bad "make install did not install:$missing"; fi
    # Every installed program has its man page.
    for b in "$P"/bin/*; do
        n=$(basename "$b")
        ls "$P"/share/man/man*/"$n".* >/dev/null 2>&1 || bad "no man page for $n"
    done

    # A plugin built against the installed header, with pkg-config's flags only.
    if command -v pkg-config >/dev/null 2>&1; then
        export PKG_CONFIG_PATH="$D$libdir/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$D"
        cflags=$(pkg-config --cflags nfprobe-plugin)
        plugindir=$(pkg-config --variable=plugindir nfprobe-plugin)
        unset PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR
        case $cflags in "-I$D$prefix/include"*) ;; *) bad "pkg-config --cflags: '$cflags'" ;; esac
        [ -f "$plugindir/splt.so" ] || bad "plugindir '$plugindir' has no splt.so"
        mkdir "$TMP/plug"
        cp "$SRCDIR/probe/plugins/packet_with_666_size.c" "$TMP/plug/p666.c"
        # shellcheck disable=SC2086
        if ${CC:-cc} -std=c11 $cflags -shared -fPIC -o "$TMP/plug/p666.so" "$TMP/plug/p666.c" 2>"$TMP/plug/cc.log" &&
            [ -f "$BUILDDIR/sample.pcap" ] &&
            "$NFPROBE" -r "$BUILDDIR/sample.pcap" --plugin "$TMP/plug/p666.so" --csv - \
                2>/dev/null | head -1 | grep -q 'udps.packet_with_666_size'; then
            ok "a plugin built with pkg-config --cflags nfprobe-plugin loads and adds its column"
        else
            bad "plugin built against the installed header:"; cat "$TMP/plug/cc.log"
        fi
    fi

    # An edited configuration survives a second install and the uninstall.
    conf=$D$sysconfdir/nfprobe/nfprobe.conf
    echo "idle-timeout = 1m" >>"$conf"
    cp "$conf" "$TMP/edited.conf"
    make -s -C "$BUILDDIR" install DESTDIR="$D" >>"$TMP/install.log" 2>&1 || bad "second make install"
    if cmp -s "$conf" "$TMP/edited.conf" && cmp -s "$conf.default" "$SRCDIR/etc/nfprobe.conf"; then
        ok "a second make install keeps the edited configuration, the new one as nfprobe.conf.default"
    else bad "the second make install overwrote the edited configuration or wrote no .default"; fi
    make -s -C "$BUILDDIR" uninstall DESTDIR="$D" >>"$TMP/install.log" 2>&1 || bad "make uninstall"
    left=$(find "$D" -type f -o -type l | sed "s|^$D||")
    if [ "$left" = "$sysconfdir/nfprobe/nfprobe.conf" ]; then
        ok "make uninstall removes everything but the edited configuration"
    else bad "after make uninstall:"; echo "$left" | sed 's/^/  /'; fi
else
    bad "make install DESTDIR=$D:"; tail -20 "$TMP/install.log"
fi

# ---------------------------------------------------------------- the Debian package
san=$(sed -n 's/^SAN_CFLAGS = //p' "$BUILDDIR/Makefile")
want_deb=${NFPROBE_TEST_DEB:-}
[ -z "$want_deb" ] && { [ -z "$san" ] && want_deb=1 || want_deb=0; }
if [ "$want_deb" != 1 ]; then
    echo "note: .deb not built (NFPROBE_TEST_DEB=0, or a sanitizer build: NFPROBE_TEST_DEB=1 builds it)"
elif ! command -v dpkg-buildpackage >/dev/null 2>&1 || ! command -v dh >/dev/null 2>&1; then
    echo "note: .deb not built (dpkg-dev and debhelper not installed)"
else
    ran=1
    # A copy of the source tree without build directories: dpkg-buildpackage works in place.
    src=$TMP/deb/nfprobe
    mkdir -p "$src"
    if git -C "$SRCDIR" rev-parse --git-dir >/dev/null 2>&1; then
        (cd "$SRCDIR" && git ls-files -z --cached --others --exclude-standard |
            xargs -0 tar -cf - --no-recursion 2>/dev/null) | tar -xf - -C "$src"
    else
        tar -C "$SRCDIR" --exclude='./build*' --exclude=./autom4te.cache -cf - . | tar -xf - -C "$src"
    fi
    rm -f "$src/config.status" "$src/Makefile" "$src/build_config.h"
    if (cd "$src" && DEB_BUILD_OPTIONS="nocheck parallel=2" \
        dpkg-buildpackage -us -uc -b >"$TMP/deb.log" 2>&1); then
        deb=$(ls "$TMP"/deb/nfprobe_*.deb 2>/dev/null | head -1)
        ok "dpkg-buildpackage -us -uc -b: $(basename "$deb")"
        if command -v lintian >/dev/null 2>&1; then
            if lintian --fail-on error "$deb" >"$TMP/lintian.log" 2>&1; then
                ok "lintian: no error ($(grep -c '^W:' "$TMP/lintian.log") warnings)"
            else bad "lintian:"; grep '^E:' "$TMP/lintian.log" | sed 's/^/  /'; fi
        else
            echo "note: lintian not installed"
        fi
        root=$TMP/root
        dpkg -x "$deb" "$root"
        dpkg-deb --ctrl-tarfile "$deb" | tar -xOf - ./conffiles >"$TMP/conffiles" 2>/dev/null
        missing=
        for f in usr/bin/nfprobe usr/bin/nfprobe-plugin-registry usr/share/man/man8/nfprobe.8.gz \
            usr/share/man/man1/nfprobe-plugin-registry.1.gz etc/nfprobe/nfprobe.conf \
            usr/share/nfprobe/nfprobe-ie.xml usr/share/nfprobe/nfprobe.iespec \
            usr/include/nfprobe/plugin.h; do
            [ -f "$root/$f" ] || missing="$missing $f"
        done
        find "$root" -name nfprobe-plugin.pc | grep -q . || missing="$missing nfprobe-plugin.pc"
        find "$root" -name nfprobe.service | grep -q . || missing="$missing nfprobe.service"
        find "$root" -path '*/nfprobe/plugins/splt.so' | grep -q . || missing="$missing splt.so"
        if [ -z "$missing" ]; then ok "the .deb unpacked in a scratch root holds every installed file"
        else bad "the .deb lacks:$missing"; fi
        grep -qx /etc/nfprobe/nfprobe.conf "$TMP/conffiles" ||
            bad "/etc/nfprobe/nfprobe.conf is not a conffile: $(cat "$TMP/conffiles")"
        if "$root/usr/bin/nfprobe" --version >"$TMP/version" 2>&1; then
            ok "the packaged nfprobe runs: $(head -1 "$TMP/version")"
        else bad "the packaged nfprobe --version:"; cat "$TMP/version"; fi
    else
        bad "dpkg-buildpackage -us -uc -b:"; tail -30 "$TMP/deb.log"
    fi
fi

[ $ran -eq 1 ] || skip "none of systemd-analyze, groff, make install could run"
[ $fails -eq 0 ]
