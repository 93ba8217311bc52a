_tojimari() {
    local i cur prev opts cmd
    COMPREPLY=()
    if [[ "${BASH_VERSINFO[0]}" -ge 4 ]]; then
        cur="$2"
    else
        cur="${COMP_WORDS[COMP_CWORD]}"
    fi
    prev="$3"
    cmd=""
    opts=""

    for i in "${COMP_WORDS[@]:0:COMP_CWORD}"
    do
        case "${cmd},${i}" in
            ",$1")
                cmd="tojimari"
                ;;
            tojimari,check)
                cmd="tojimari__subcmd__check"
                ;;
            tojimari,completions)
                cmd="tojimari__subcmd__completions"
                ;;
            tojimari,diff)
                cmd="tojimari__subcmd__diff"
                ;;
            tojimari,export)
                cmd="tojimari__subcmd__export"
                ;;
            tojimari,history)
                cmd="tojimari__subcmd__history"
                ;;
            tojimari,import)
                cmd="tojimari__subcmd__import"
                ;;
            tojimari,jobs)
                cmd="tojimari__subcmd__jobs"
                ;;
            tojimari,local)
                cmd="tojimari__subcmd__local"
                ;;
            tojimari,man)
                cmd="tojimari__subcmd__man"
                ;;
            tojimari,ports)
                cmd="tojimari__subcmd__ports"
                ;;
            tojimari,scan)
                cmd="tojimari__subcmd__scan"
                ;;
            tojimari,serve)
                cmd="tojimari__subcmd__serve"
                ;;
            tojimari,watch)
                cmd="tojimari__subcmd__watch"
                ;;
            tojimari,worker)
                cmd="tojimari__subcmd__worker"
                ;;
            *)
                ;;
        esac
    done

    case "${cmd}" in
        tojimari)
            opts="-h -V --help --version scan ports check local watch history diff export import serve worker jobs completions man"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 1 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        tojimari__subcmd__check)
            opts="-e -h --exclude --excludefile --lang --output-normal --output-xml --output-grepable --output-json --output-all --db --no-store --stats-every --allowed-targets --help quick stealth trojan tcp udp prescan"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --exclude)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --excludefile)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -e)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --lang)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --output-normal)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --output-xml)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --output-grepable)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --output-json)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --output-all)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --stats-every)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --allowed-targets)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        tojimari__subcmd__completions)
            opts="-h --help bash zsh fish"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        tojimari__subcmd__diff)
            opts="-h --text --xml --jsonl --output-normal --output-xml --output-json --db --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --output-normal)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --output-xml)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --output-json)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        tojimari__subcmd__export)
            opts="-h --output-normal --output-xml --output-grepable --output-json --output-all --db --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --output-normal)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --output-xml)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --output-grepable)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --output-json)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --output-all)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        tojimari__subcmd__history)
            opts="-h --db --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --db)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        tojimari__subcmd__import)
            opts="-h --db --format --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --db)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --format)
                    COMPREPLY=($(compgen -W "nmap-xml masscan-xml masscan-json masscan-list jsonl" -- "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        tojimari__subcmd__jobs)
            opts="-h --db --output-json --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --db)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --output-json)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        tojimari__subcmd__local)
            opts="-y -h --port --stop --yes --grace --store --db --output-json --tcp --udp --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --port)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --grace)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --output-json)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        tojimari__subcmd__man)
            opts="-h --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        tojimari__subcmd__ports)
            opts="-h --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        tojimari__subcmd__scan)
            opts="-e -6 -n -b -O -p -F -r -T -v -f -D -S -g -h --input-list --exclude --excludefile --no-ping --ping-only --ping-probe --traceroute --list --connect --syn --udp --sctp-init --sctp-cookie-echo --ip-protocol --fin --null --xmas --ack --window --maimon --udp-full-split --defeat-icmp-ratelimit --idle-scan --scanflags --ftp-bounce --service-version --version-intensity --version-light --version-all --versiondb --banners --no-findings --checks --aggressive --os-detect --osscan-limit --fuzzy --osscan-guess --max-os-tries --osdb --top-ports --exclude-ports --seed --shard --min-rate --max-rate --max-retries --host-timeout --scan-delay --initial-rtt-timeout --min-rtt-timeout --max-rtt-timeout --max-parallelism --output-normal --output-xml --output-grepable --output-json --output-all --reason --open --stats-every --allowed-targets --no-progress --debug --packet-trace --iflist --unprivileged --resume --checkpoint --checkpoint-every --db --no-store --workers --chunk-size --mtu --source-port --spoof-mac --data --data-string --data-length --ip-options --ttl --badsum --adler32 --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --input-list)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --exclude)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --excludefile)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -e)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --ping-probe)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --idle-scan)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --scanflags)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --ftp-bounce)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -b)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --version-intensity)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --versiondb)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-os-tries)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --osdb)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -p)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --top-ports)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --exclude-ports)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --seed)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --shard)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -T)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --min-rate)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-rate)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-retries)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --host-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --scan-delay)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --initial-rtt-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --min-rtt-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-rtt-timeout)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-parallelism)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --output-normal)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --output-xml)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --output-grepable)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --output-json)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --output-all)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --stats-every)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --allowed-targets)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --resume)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --checkpoint)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --checkpoint-every)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --chunk-size)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --mtu)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -D)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -S)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --source-port)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                -g)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --spoof-mac)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --data)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --data-string)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --data-length)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --ip-options)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --ttl)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        tojimari__subcmd__serve)
            opts="-h --listen --db --password-file --allow --max-checks --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --listen)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --password-file)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --allow)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --max-checks)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        tojimari__subcmd__watch)
            opts="-i -q -h --pcap --log --store --db --output-json --syslog --for --net --quiet --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                -i)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --pcap)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --log)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --db)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --output-json)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --for)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --net)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
        tojimari__subcmd__worker)
            opts="-v -h --db --state-dir --lease --checkpoint-every --exit-when-done --help"
            if [[ ${cur} == -* || ${COMP_CWORD} -eq 2 ]] ; then
                COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
                return 0
            fi
            case "${prev}" in
                --db)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --state-dir)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --lease)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                --checkpoint-every)
                    COMPREPLY=($(compgen -f "${cur}"))
                    return 0
                    ;;
                *)
                    COMPREPLY=()
                    ;;
            esac
            COMPREPLY=( $(compgen -W "${opts}" -- "${cur}") )
            return 0
            ;;
    esac
}

if [[ "${BASH_VERSINFO[0]}" -eq 4 && "${BASH_VERSINFO[1]}" -ge 4 || "${BASH_VERSINFO[0]}" -gt 4 ]]; then
    complete -F _tojimari -o nosort -o bashdefault -o default tojimari
else
    complete -F _tojimari -o bashdefault -o default tojimari
fi
