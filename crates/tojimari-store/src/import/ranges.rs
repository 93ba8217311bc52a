//! nmap's compact port lists (`1-21,23,80-90`), as `services` and `extrareasons ports` write them.

/// The ports of a list, in order, or `None` when it is not one. Calls `each` per port and stops (with
/// `Some(false)`) as soon as `each` says so, so a hostile list of ranges costs no memory.
pub(crate) fn for_each_port(list: &str, mut each: impl FnMut(u16) -> bool) -> Option<bool> {
    for part in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (low, high) = match part.split_once('-') {
            Some((low, high)) => (low.trim().parse::<u16>().ok()?, high.trim().parse::<u16>().ok()?),
            None => {
                let port = part.parse::<u16>().ok()?;
                (port, port)
            }
        };
        if low > high {
            return None;
        }
        for port in low..=high {
            if !each(port) {
                return Some(false);
            }
        }
    }
    Some(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(list: &str) -> Option<Vec<u16>> {
        let mut ports = Vec::new();
        for_each_port(list, |p| {
            ports.push(p);
            true
        })
        .map(|_| ports)
    }

    #[test]
    fn lists_and_ranges() {
        assert_eq!(all("1-3,5,65535"), Some(vec![1, 2, 3, 5, 65535]));
        assert_eq!(all(""), Some(vec![]));
        assert_eq!(all("3-1"), None);
        assert_eq!(all("70000"), None);
        assert_eq!(all("a-b"), None);
        let mut seen = 0;
        assert_eq!(
            for_each_port("1-65535,1-65535", |_| {
                seen += 1;
                seen < 10
            }),
            Some(false)
        );
        assert_eq!(seen, 10);
    }
}
