//! exploration
mod support;
use tojimari_testbed::bounce_ftp::{BounceFtp, Relay};

#[test]
fn explore() {
    let bed = tojimari_testbed::testbed_or_skip!(2);
    let ftp = bed.target(0);
    let target = bed.target(1);
    let _l = target.listen_tcp(&[22, 80, 1500, 2000, 3000]).unwrap();
    let rules = format!(
        "table inet tjb {{\n chain input {{ type filter hook input priority 0; policy accept;\n  tcp dport {{ 3000, 3001 }} drop\n  ip saddr != {} tcp dport != 0 drop\n }}\n}}\n",
        ftp.v4
    );
    target.firewall(&rules).unwrap();
    let server = BounceFtp::start(&ftp.ns, ftp.v4, Relay::Promiscuous, 0).unwrap();
    let t = target.v4.to_string();
    let script = format!(r#"
import socket,sys,time
s=socket.create_connection(("{f}",21)); s.settimeout(15)
f=s.makefile('rb')
def rd():
    out=[]
    while True:
        l=f.readline().decode()
        out.append(l.strip())
        if len(l)>=4 and l[3]==' ': break
    return out
print(rd())
s.sendall(b"USER anonymous\r\n"); print(rd())
s.sendall(b"PASS -wwwuser@\r\n"); print(rd())
a="{t}".replace('.',',')
for p in [22,21,1500,1501,2000,3000]:
    t0=time.time()
    s.sendall(("PORT %s,%d,%d\r\n"%(a,p>>8,p&255)).encode()); r=rd(); print(p,"PORT",r)
    if not r[-1].startswith('2'): continue
    s.sendall(b"LIST\r\n")
    try:
        r=rd(); print(p,"LIST",r, time.time()-t0)
        if r[-1].startswith('1'):
            r=rd(); print(p,"LIST2",r, time.time()-t0)
    except Exception as e: print(p,"EXC",e, time.time()-t0); break
"#, f = ftp.v4, t = t);
    let out = bed.scanner().command("python3").args(["-c", &script]).output().unwrap();
    println!("PY: {}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    let out = bed.scanner().command("nmap").args(["-Pn","-n","-d","-b", &format!("{}", ftp.v4), "-p", "21,22,80,1500,1501,2000,3000", &t]).output().unwrap();
    println!("NMAP: {}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    drop(server);
}
