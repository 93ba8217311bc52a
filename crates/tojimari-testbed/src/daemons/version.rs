//! Ground-truth versions: the installed Debian package's version (`dpkg-query`) and the
//! upstream version inside it, which is what the daemons announce (`1:9.2p1-2+deb12u10` ->
//! `9.2p1`, `5:7.0.15-1~deb12u10` -> `7.0.15`, `1:2.3.19.1+dfsg1-2.1` -> `2.3.19.1`).

use std::process::Command;

/// The version of the first installed package among `packages`, as dpkg spells it.
pub(super) fn package_version(packages: &[String]) -> Option<String> {
    packages.iter().find_map(|package| {
        let output = Command::new("dpkg-query").args(["-W", "-f=${Version}", package]).output().ok()?;
        let version = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        (output.status.success() && !version.is_empty()).then_some(version)
    })
}

/// The upstream part of a Debian version: without the epoch (`N:`), the Debian revision (from
/// the last `-`) and repacking suffixes (`+dfsg`, `~...`).
pub(super) fn upstream(debian: &str) -> &str {
    let without_epoch = debian.split_once(':').map_or(debian, |(_, rest)| rest);
    let without_revision = without_epoch.rsplit_once('-').map_or(without_epoch, |(upstream, _)| upstream);
    without_revision.split(['+', '~']).next().unwrap_or(without_revision)
}

#[cfg(test)]
mod tests {
    use super::upstream;

    #[test]
    fn upstream_strips_epoch_revision_and_repack_suffixes() {
        assert_eq!(upstream("1:9.2p1-2+deb12u10"), "9.2p1");
        assert_eq!(upstream("1.22.1-9+deb12u11"), "1.22.1");
        assert_eq!(upstream("5:7.0.15-1~deb12u10"), "7.0.15");
        assert_eq!(upstream("1:2.3.19.1+dfsg1-2.1+deb12u7"), "2.3.19.1");
        assert_eq!(upstream("5.9.3+dfsg-2+deb12u1"), "5.9.3");
        assert_eq!(upstream("15.18-0+deb12u1"), "15.18");
        assert_eq!(upstream("4.96-15+deb12u10"), "4.96");
        assert_eq!(upstream("2.90-4~deb12u2"), "2.90");
        assert_eq!(upstream("3.0.3"), "3.0.3");
    }
}
