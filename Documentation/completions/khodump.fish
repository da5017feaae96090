function __khodump_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __khodump_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __khodump_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __khodump_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __khodump_parse_tokens -S
    set -l unparsed_tokens (__khodump_tokens -pc)
    switch $unparsed_tokens[1]
    case 'khodump'
        __khodump_parse_subcommand 0 'h/help'
        switch $unparsed_tokens[1]
        case 'info'
            __khodump_parse_subcommand 1 'fdt-phys=' 'page-size=' 'debugfs-side=' 'tmpdir=' 'format=' 'ranges=' 'h/help'
        case 'inspect'
            __khodump_parse_subcommand 1 'fdt-phys=' 'page-size=' 'debugfs-side=' 'tmpdir=' 'format=' 'depth=' 'only=' 'h/help'
        case 'validate'
            __khodump_parse_subcommand 1 'fdt-phys=' 'page-size=' 'debugfs-side=' 'tmpdir=' 'format=' 'h/help'
        case 'fdt'
            __khodump_parse_subcommand 1 'format=' 'raw' 'byte-order=' 'allow-trailing' 'h/help'
        case 'scan'
            __khodump_parse_subcommand 1 'format=' 'h/help'
        case 'sessions'
            __khodump_parse_subcommand 1 'fdt-phys=' 'page-size=' 'debugfs-side=' 'tmpdir=' 'format=' 'h/help'
        case 'vms'
            __khodump_parse_subcommand 1 'fdt-phys=' 'page-size=' 'debugfs-side=' 'tmpdir=' 'format=' 'h/help'
        case 'devices'
            __khodump_parse_subcommand 1 'fdt-phys=' 'page-size=' 'debugfs-side=' 'tmpdir=' 'format=' 'h/help'
        case 'memfd'
            __khodump_parse_subcommand 1 'fdt-phys=' 'page-size=' 'debugfs-side=' 'tmpdir=' 'session=' 'token=' 'out=' 'format=' 'h/help'
        case 'pages'
            __khodump_parse_subcommand 1 'fdt-phys=' 'page-size=' 'debugfs-side=' 'tmpdir=' 'format=' 'summary' 'map' 'map-rows=' 'map-columns=' 'radix-depth=' 'h/help'
        case 'pack'
            __khodump_parse_subcommand 1 'fdt-phys=' 'page-size=' 'debugfs-side=' 'tmpdir=' 'out=' 'with-data' 'no-compress' 'format=' 'h/help'
        case 'capture'
            __khodump_parse_subcommand 0 'out=' 'debugfs=' 'side=' 'mem=' 'fdt-phys=' 'with-data' 'h/help'
        case 'diff'
            __khodump_parse_subcommand 2 'format=' 'h/help'
        case 'compat'
            __khodump_parse_subcommand 0 'h/help'
            switch $unparsed_tokens[1]
            case 'versions'
                __khodump_parse_subcommand 1 'format=' 'fdt-phys=' 'h/help'
            case 'negotiate'
                __khodump_parse_subcommand 0 'from=' 'to=+' 'policy=' 'profile=' 'format=' 'h/help'
            case 'matrix'
                __khodump_parse_subcommand 0 'format=' 'h/help'
            end
        case 'convert'
            __khodump_parse_subcommand 1 'fdt-phys=' 'page-size=' 'debugfs-side=' 'tmpdir=' 'to=' 'out=' 'no-compress' 'format=' 'h/help'
        case 'xarray'
            __khodump_parse_subcommand 1 'at=' 'base=' 'layout=' 'key=' 'range=' 'mark=' 'no-verify' 'format=' 'h/help'
        case 'demo'
            __khodump_parse_subcommand 0 'out=' 'format=' 'h/help'
        case 'help'
            __khodump_parse_subcommand -r 1 
        end
    end
end

function __khodump_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __khodump_parse_subcommand -S -a positional_count
    argparse -s r -- $argv
    set -l option_specs $argv[2..]
    set -l is_repeating_positional $_flag_r
    set -el _flag_r
    set -a commands $unparsed_tokens[1]
    set positional_index 0
    while true
        set -e unparsed_tokens[1]
        argparse -sn "$commands" $option_specs -- $unparsed_tokens 2> /dev/null
        set unparsed_tokens $argv
        set positional_index (math $positional_index + 1)
        for non_repeating_flag_or_option in $non_repeating_flags_or_options
            if set -ql "_flag_$(string replace -a - _ -- $non_repeating_flag_or_option)"
                set non_repeating_flags_or_options_absent 1
                break
            end
        end
        test (count $unparsed_tokens) -eq 0 -o \( -z "$is_repeating_positional" -a "$positional_index" -gt "$positional_count" \) && break
    end
end

function __khodump_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __khodump_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__khodump_tokens -p)
    if test -z "$(__khodump_tokens -t)"
        set -l index (count (__khodump_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'khodump' -f
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_positional "khodump" -eq 1' -fa 'info' -d 'Describe an image: container, page size, byte order, ranges, and where the KHO root is.'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_positional "khodump" -eq 1' -fa 'inspect' -d 'Decode everything reachable from the KHO root and print it as a tree.'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_positional "khodump" -eq 1' -fa 'validate' -d 'Check a handover and list only its problems (exit 1 when there are any).'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_positional "khodump" -eq 1' -fa 'fdt' -d 'Print a flattened device tree (raw or zstd-compressed) as DTS or JSON.'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_positional "khodump" -eq 1' -fa 'scan' -d 'Find KHO root FDTs in a memory image (like fdtdump -s, for KHO).'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_positional "khodump" -eq 1' -fa 'sessions' -d 'List the Live Update sessions, their files and the FLBs in a handover.'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_positional "khodump" -eq 1' -fa 'vms' -d 'List the KVM virtual machines in a handover: memory, vCPUs, and whether each is complete.'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_positional "khodump" -eq 1' -fa 'devices' -d 'List the preserved PCI devices: VFIO state, IOMMU attachment and whether each stays working.'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_positional "khodump" -eq 1' -fa 'memfd' -d 'Show a preserved memfd (by session name and token) and extract its contents.'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_positional "khodump" -eq 1' -fa 'pages' -d 'List the preserved pages: one line per (physical address, order) entry.'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_positional "khodump" -eq 1' -fa 'pack' -d 'Write a compact zstd-compressed ELF bundle of every page reachable from the KHO root.'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_positional "khodump" -eq 1' -fa 'capture' -d 'Capture this host\'s handover (debugfs + /proc/kcore or /dev/mem) into a bundle.'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_positional "khodump" -eq 1' -fa 'diff' -d 'Compare two handovers: versions, components, sessions, files, preserved ranges.'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_positional "khodump" -eq 1' -fa 'compat' -d 'Which handover format versions a kernel writes and reads, and which pairs can hand over.'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_positional "khodump" -eq 1' -fa 'convert' -d 'Re-encode a handover in other component versions, where that is lossless, as a bundle.'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_positional "khodump" -eq 1' -fa 'xarray' -d 'Print a preserved KHO xarray (kho-xarray-v1 or -v2) read in place.'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_positional "khodump" -eq 1' -fa 'demo' -d 'Build a representative handover in memory, pack it, re-open the bundle and inspect it.'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_positional "khodump" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump info" fdt-phys' -l 'fdt-phys' -d 'Physical address of the KHO root FDT (hex, 0x…).' -rfka ''
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump info" page-size' -l 'page-size' -d 'Page size of the kernel that wrote the image, when the image does not say (4096, 16384, 65536).' -rfka ''
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump info" debugfs-side' -l 'debugfs-side' -d 'For a debugfs copy with both halves: in or out (default: in, else out).' -rfka ''
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump info" tmpdir' -l 'tmpdir' -d 'Where a compressed or flattened input is expanded (default: $TMPDIR, else /tmp).' -rfa '(__khodump_complete_directories)'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump info" format' -l 'format' -d 'Output format: text or json.' -rfka 'text json'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump info" ranges' -l 'ranges' -d 'The most captured ranges listed (the totals count them all).' -rfka ''
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump info" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump inspect" fdt-phys' -l 'fdt-phys' -d 'Physical address of the KHO root FDT (hex, 0x…).' -rfka ''
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump inspect" page-size' -l 'page-size' -d 'Page size of the kernel that wrote the image, when the image does not say (4096, 16384, 65536).' -rfka ''
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump inspect" debugfs-side' -l 'debugfs-side' -d 'For a debugfs copy with both halves: in or out (default: in, else out).' -rfka ''
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump inspect" tmpdir' -l 'tmpdir' -d 'Where a compressed or flattened input is expanded (default: $TMPDIR, else /tmp).' -rfa '(__khodump_complete_directories)'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump inspect" format' -l 'format' -d 'Output format: text, json, or dot (Graphviz object graph).' -rfka 'text json dot'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump inspect" depth' -l 'depth' -d 'How deep to print: 1 components, 2 sessions and orders, 3 files.' -rfka ''
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump inspect" only' -l 'only' -d 'Only this component (e.g. LUO, memblock, preserved-memory-map).' -rfka ''
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump inspect" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump validate" fdt-phys' -l 'fdt-phys' -d 'Physical address of the KHO root FDT (hex, 0x…).' -rfka ''
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump validate" page-size' -l 'page-size' -d 'Page size of the kernel that wrote the image, when the image does not say (4096, 16384, 65536).' -rfka ''
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump validate" debugfs-side' -l 'debugfs-side' -d 'For a debugfs copy with both halves: in or out (default: in, else out).' -rfka ''
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump validate" tmpdir' -l 'tmpdir' -d 'Where a compressed or flattened input is expanded (default: $TMPDIR, else /tmp).' -rfa '(__khodump_complete_directories)'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump validate" format' -l 'format' -d 'Output format: text or json.' -rfka 'text json'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump validate" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump fdt" format' -l 'format' -d 'Output format: text (DTS) or json.' -rfka 'text json'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump fdt" raw' -l 'raw' -d 'Print exactly what dtc prints, without KHO annotations.'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump fdt" byte-order' -l 'byte-order' -d 'Byte order of KHO u64 properties: little or big.' -rfka ''
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump fdt" allow-trailing' -l 'allow-trailing' -d 'Accept a file longer than the FDT\'s totalsize (a whole page).'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump fdt" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump scan" format' -l 'format' -d 'Output format: text or json.' -rfka 'text json'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump scan" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump sessions" fdt-phys' -l 'fdt-phys' -d 'Physical address of the KHO root FDT (hex, 0x…).' -rfka ''
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump sessions" page-size' -l 'page-size' -d 'Page size of the kernel that wrote the image, when the image does not say (4096, 16384, 65536).' -rfka ''
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump sessions" debugfs-side' -l 'debugfs-side' -d 'For a debugfs copy with both halves: in or out (default: in, else out).' -rfka ''
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump sessions" tmpdir' -l 'tmpdir' -d 'Where a compressed or flattened input is expanded (default: $TMPDIR, else /tmp).' -rfa '(__khodump_complete_directories)'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump sessions" format' -l 'format' -d 'Output format: text or json.' -rfka 'text json'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump sessions" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump vms" fdt-phys' -l 'fdt-phys' -d 'Physical address of the KHO root FDT (hex, 0x…).' -rfka ''
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump vms" page-size' -l 'page-size' -d 'Page size of the kernel that wrote the image, when the image does not say (4096, 16384, 65536).' -rfka ''
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump vms" debugfs-side' -l 'debugfs-side' -d 'For a debugfs copy with both halves: in or out (default: in, else out).' -rfka ''
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump vms" tmpdir' -l 'tmpdir' -d 'Where a compressed or flattened input is expanded (default: $TMPDIR, else /tmp).' -rfa '(__khodump_complete_directories)'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump vms" format' -l 'format' -d 'Output format: text or json.' -rfka 'text json'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump vms" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump devices" fdt-phys' -l 'fdt-phys' -d 'Physical address of the KHO root FDT (hex, 0x…).' -rfka ''
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump devices" page-size' -l 'page-size' -d 'Page size of the kernel that wrote the image, when the image does not say (4096, 16384, 65536).' -rfka ''
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump devices" debugfs-side' -l 'debugfs-side' -d 'For a debugfs copy with both halves: in or out (default: in, else out).' -rfka ''
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump devices" tmpdir' -l 'tmpdir' -d 'Where a compressed or flattened input is expanded (default: $TMPDIR, else /tmp).' -rfa '(__khodump_complete_directories)'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump devices" format' -l 'format' -d 'Output format: text or json.' -rfka 'text json'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump devices" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump memfd" fdt-phys' -l 'fdt-phys' -d 'Physical address of the KHO root FDT (hex, 0x…).' -rfka ''
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump memfd" page-size' -l 'page-size' -d 'Page size of the kernel that wrote the image, when the image does not say (4096, 16384, 65536).' -rfka ''
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump memfd" debugfs-side' -l 'debugfs-side' -d 'For a debugfs copy with both halves: in or out (default: in, else out).' -rfka ''
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump memfd" tmpdir' -l 'tmpdir' -d 'Where a compressed or flattened input is expanded (default: $TMPDIR, else /tmp).' -rfa '(__khodump_complete_directories)'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump memfd" session' -l 'session' -d 'The session name.' -rfka ''
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump memfd" token' -l 'token' -d 'The file\'s token (decimal or 0x hex).' -rfka ''
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump memfd" out' -l 'out' -d 'Write the file\'s contents here.' -rfka ''
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump memfd" format' -l 'format' -d 'Output format: text or json.' -rfka 'text json'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump memfd" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump pages" fdt-phys' -l 'fdt-phys' -d 'Physical address of the KHO root FDT (hex, 0x…).' -rfka ''
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump pages" page-size' -l 'page-size' -d 'Page size of the kernel that wrote the image, when the image does not say (4096, 16384, 65536).' -rfka ''
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump pages" debugfs-side' -l 'debugfs-side' -d 'For a debugfs copy with both halves: in or out (default: in, else out).' -rfka ''
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump pages" tmpdir' -l 'tmpdir' -d 'Where a compressed or flattened input is expanded (default: $TMPDIR, else /tmp).' -rfa '(__khodump_complete_directories)'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump pages" format' -l 'format' -d 'Output format: text or json.' -rfka 'text json'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump pages" summary' -l 'summary' -d 'Print counts per order and the total bytes instead of the entries.'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump pages" map' -l 'map' -d 'Draw the physical address space as a density strip instead of listing entries.'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump pages" map-rows' -l 'map-rows' -d 'Rows of the --map strip.' -rfka ''
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump pages" map-columns' -l 'map-columns' -d 'Cells per row of the --map strip.' -rfka ''
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump pages" radix-depth' -l 'radix-depth' -d 'Radix depth formula: plus-one (default) or original (16 KiB-page kernels before the fix).' -rfka 'plus-one original'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump pages" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump pack" fdt-phys' -l 'fdt-phys' -d 'Physical address of the KHO root FDT (hex, 0x…).' -rfka ''
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump pack" page-size' -l 'page-size' -d 'Page size of the kernel that wrote the image, when the image does not say (4096, 16384, 65536).' -rfka ''
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump pack" debugfs-side' -l 'debugfs-side' -d 'For a debugfs copy with both halves: in or out (default: in, else out).' -rfka ''
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump pack" tmpdir' -l 'tmpdir' -d 'Where a compressed or flattened input is expanded (default: $TMPDIR, else /tmp).' -rfa '(__khodump_complete_directories)'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump pack" out' -l 'out' -d 'Where to write the bundle.' -rfka ''
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump pack" with-data' -l 'with-data' -d 'Also include the preserved data pages the image captured.'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump pack" no-compress' -l 'no-compress' -d 'Write the ELF uncompressed (for readelf -l).'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump pack" format' -l 'format' -d 'Output format: text or json.' -rfka 'text json'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump pack" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump capture" out' -l 'out' -d 'Where to write the bundle.' -rfka ''
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump capture" debugfs' -l 'debugfs' -d 'The kho debugfs directory (its in/ or out/ half is chosen with --side).' -rfka ''
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump capture" side' -l 'side' -d 'in or out (default: in if present, else out).' -rfka ''
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump capture" mem' -l 'mem' -d 'Physical memory: /proc/kcore (ELF) or /dev/mem (raw, RAM ranges from /proc/iomem).' -rfka ''
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump capture" fdt-phys' -l 'fdt-phys' -d 'Physical address of the root FDT, if known.' -rfka ''
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump capture" with-data' -l 'with-data' -d 'Also include preserved data pages.'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump capture" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump diff" format' -l 'format' -d 'Output format: text or json.' -rfka 'text json'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump diff" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump compat" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_positional "khodump compat" -eq 1' -fa 'versions' -d 'Print a capability manifest for a vmlinux or a handover image.'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_positional "khodump compat" -eq 1' -fa 'negotiate' -d 'Choose per component the version the outgoing side must write for the incoming side(s).'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_positional "khodump compat" -eq 1' -fa 'matrix' -d 'Print the version-compat matrix (the source of Specs/compat-matrix.md and .json).'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump compat versions" format' -l 'format' -d 'Output format: text or json (the manifest, usable with negotiate).' -rfka 'text json'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump compat versions" fdt-phys' -l 'fdt-phys' -d 'Physical address of the KHO root FDT in an image (hex).' -rfka ''
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump compat versions" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump compat negotiate" from' -l 'from' -d 'The outgoing side: a manifest JSON or a vmlinux.' -rfka ''
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump compat negotiate"' -l 'to' -d 'An incoming side: a manifest JSON or a vmlinux (repeatable).' -rfka ''
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump compat negotiate" policy' -l 'policy' -d 'A policy JSON (mandatory/optional components, profile, dual-write).' -rfka ''
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump compat negotiate" profile' -l 'profile' -d 'Profile to use on both sides (overrides the policy\'s).' -rfka ''
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump compat negotiate" format' -l 'format' -d 'Output format: text or json.' -rfka 'text json'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump compat negotiate" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump compat matrix" format' -l 'format' -d 'Output format: md or json.' -rfka 'md json'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump compat matrix" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump convert" fdt-phys' -l 'fdt-phys' -d 'Physical address of the KHO root FDT (hex, 0x…).' -rfka ''
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump convert" page-size' -l 'page-size' -d 'Page size of the kernel that wrote the image, when the image does not say (4096, 16384, 65536).' -rfka ''
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump convert" debugfs-side' -l 'debugfs-side' -d 'For a debugfs copy with both halves: in or out (default: in, else out).' -rfka ''
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump convert" tmpdir' -l 'tmpdir' -d 'Where a compressed or flattened input is expanded (default: $TMPDIR, else /tmp).' -rfa '(__khodump_complete_directories)'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump convert" to' -l 'to' -d 'Target versions, comma separated (kho-v2,luo-v5,memfd-v1).' -rfka ''
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump convert" out' -l 'out' -d 'Where to write the converted bundle.' -rfka ''
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump convert" no-compress' -l 'no-compress' -d 'Write the ELF uncompressed (for readelf -l).'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump convert" format' -l 'format' -d 'Output format: text or json.' -rfka 'text json'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump convert" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump xarray" at' -l 'at' -d 'Physical address of the header (v2) or root table (v1).' -rfka ''
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump xarray" base' -l 'base' -d 'Physical address of the first byte of FILE.' -rfka ''
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump xarray" layout' -l 'layout' -d 'Which layout: auto, v1 or v2.' -rfka ''
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump xarray" key' -l 'key' -d 'Print only the entry covering this index.' -rfka ''
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump xarray" range' -l 'range' -d 'Print only entries in A..B (inclusive).' -rfka ''
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump xarray" mark' -l 'mark' -d 'Print only entries carrying this mark (0, 1 or 2).' -rfka ''
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump xarray" no-verify' -l 'no-verify' -d 'Skip checksum verification (v2).'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump xarray" format' -l 'format' -d 'Output format: text or json.' -rfka 'text json'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump xarray" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump demo" out' -l 'out' -d 'Leave the bundle at this path.' -rfka ''
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump demo" format' -l 'format' -d 'Output format: text or json.' -rfka 'text json'
complete -c 'khodump' -n '__khodump_should_offer_completions_for_flags_or_options "khodump demo" h help' -s 'h' -l 'help' -d 'Show help information.'
