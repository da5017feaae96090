#!/bin/bash

__khodump_cursor_index_in_current_word() {
    local remaining="${COMP_LINE}"

    local word
    for word in "${COMP_WORDS[@]::COMP_CWORD}"; do
        remaining="${remaining##*([[:space:]])"${word}"*([[:space:]])}"
    done

    local -ir index="$((COMP_POINT - ${#COMP_LINE} + ${#remaining}))"
    if [[ "${index}" -le 0 ]]; then
        printf 0
    else
        printf %s "${index}"
    fi
}

# positional arguments:
#
# - 1: the current (sub)command's count of positional arguments
#
# required variables:
#
# - repeating_flags: the repeating flags that the current (sub)command can accept
# - non_repeating_flags: the non-repeating flags that the current (sub)command can accept
# - repeating_options: the repeating options that the current (sub)command can accept
# - non_repeating_options: the non-repeating options that the current (sub)command can accept
# - positional_number: value ignored
# - unparsed_words: unparsed words from the current command line
#
# modified variables:
#
# - non_repeating_flags: remove flags for this (sub)command that are already on the command line
# - non_repeating_options: remove options for this (sub)command that are already on the command line
# - positional_number: set to the current positional number
# - unparsed_words: remove all flags, options, and option values for this (sub)command
__khodump_offer_flags_options() {
    local -ir positional_count="${1}"
    positional_number=0

    local was_flag_option_terminator_seen=false
    local is_parsing_option_value=false

    local -ar unparsed_word_indices=("${!unparsed_words[@]}")
    local -i word_index
    for word_index in "${unparsed_word_indices[@]}"; do
        if "${is_parsing_option_value}"; then
            # This word is an option value:
            # Reset marker for next word iff not currently the last word
            [[ "${word_index}" -ne "${unparsed_word_indices[${#unparsed_word_indices[@]} - 1]}" ]] && is_parsing_option_value=false
            unset "unparsed_words[${word_index}]"
            # Do not process this word as a flag or an option
            continue
        fi

        local word="${unparsed_words["${word_index}"]}"
        if ! "${was_flag_option_terminator_seen}"; then
            case "${word}" in
            --)
                unset "unparsed_words[${word_index}]"
                # by itself -- is a flag/option terminator, but if it is the last word, it is the start of a completion
                if [[ "${word_index}" -ne "${unparsed_word_indices[${#unparsed_word_indices[@]} - 1]}" ]]; then
                    was_flag_option_terminator_seen=true
                fi
                continue
                ;;
            -*)
                # ${word} is a flag or an option
                # If ${word} is an option, mark that the next word to be parsed is an option value
                local option
                for option in "${repeating_options[@]}" "${non_repeating_options[@]}"; do
                    [[ "${word}" = "${option}" ]] && is_parsing_option_value=true && break
                done

                # Remove ${word} from ${non_repeating_flags} or ${non_repeating_options} so it isn't offered again
                local not_found=true
                local -i index
                for index in "${!non_repeating_flags[@]}"; do
                    if [[ "${non_repeating_flags[${index}]}" = "${word}" ]]; then
                        unset "non_repeating_flags[${index}]"
                        non_repeating_flags=("${non_repeating_flags[@]}")
                        not_found=false
                        break
                    fi
                done
                if "${not_found}"; then
                    for index in "${!non_repeating_flags[@]}"; do
                        if [[ "${non_repeating_flags[${index}]}" = "${word}" ]]; then
                            unset "non_repeating_flags[${index}]"
                            non_repeating_flags=("${non_repeating_flags[@]}")
                            break
                        fi
                    done
                fi
                unset "unparsed_words[${word_index}]"
                continue
                ;;
            esac
        fi

        # ${word} is neither a flag, nor an option, nor an option value
        if [[ "${positional_number}" -lt "${positional_count}" || "${positional_count}" -lt 0 ]]; then
            # ${word} is a positional
            ((positional_number++))
            unset "unparsed_words[${word_index}]"
        else
            if [[ -z "${word}" ]]; then
                # Could be completing a flag, option, or subcommand
                positional_number=-1
            else
                # ${word} is a subcommand or invalid, so stop processing this (sub)command
                positional_number=-2
            fi
            break
        fi
    done

    unparsed_words=("${unparsed_words[@]}")

    if\
        ! "${was_flag_option_terminator_seen}"\
        && ! "${is_parsing_option_value}"\
        && [[ ("${cur}" = -* && "${positional_number}" -ge 0) || "${positional_number}" -eq -1 ]]
    then
        COMPREPLY+=($(compgen -W "${repeating_flags[*]} ${non_repeating_flags[*]} ${repeating_options[*]} ${non_repeating_options[*]}" -- "${cur}"))
    fi
}

__khodump_add_completions() {
    local completion
    while IFS='' read -r completion; do
        COMPREPLY+=("${completion}")
    done < <(IFS=$'\n' compgen "${@}" -- "${cur}")
}

__khodump_custom_complete() {
    if [[ -n "${cur}" || -z ${COMP_WORDS[${COMP_CWORD}]} || "${COMP_LINE:${COMP_POINT}:1}" != ' ' ]]; then
        local -ar words=("${COMP_WORDS[@]}")
    else
        local -ar words=("${COMP_WORDS[@]::${COMP_CWORD}}" '' "${COMP_WORDS[@]:${COMP_CWORD}}")
    fi

    "${COMP_WORDS[0]}" "${@}" "${words[@]}"
}

_khodump() {
    local state
    state="$(shopt -p;shopt -po)"
    trap "${state//$'\n'/;}" RETURN
    shopt -s extglob
    set +o history +o posix

    local -xr SAP_SHELL=bash
    local -x SAP_SHELL_VERSION
    SAP_SHELL_VERSION="$(IFS='.';printf %s "${BASH_VERSINFO[*]}")"
    local -r SAP_SHELL_VERSION

    local -r cur="${2}"
    local -r prev="${3}"

    local -i positional_number
    local -a unparsed_words=("${COMP_WORDS[@]:1:${COMP_CWORD}}")

    local -a repeating_flags=()
    local -a non_repeating_flags=(-h --help)
    local -a repeating_options=()
    local -a non_repeating_options=()
    __khodump_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    info|inspect|validate|fdt|scan|sessions|vms|devices|memfd|pages|pack|capture|diff|compat|convert|xarray|demo|help)
        # Offer subcommand argument completions
        "_khodump_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'info inspect validate fdt scan sessions vms devices memfd pages pack capture diff compat convert xarray demo help' -- "${cur}"))
        ;;
    esac
}

_khodump_info() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--fdt-phys --page-size --debugfs-side --tmpdir --format --ranges)
    __khodump_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--fdt-phys')
        return
        ;;
    '--page-size')
        return
        ;;
    '--debugfs-side')
        return
        ;;
    '--tmpdir')
        __khodump_add_completions -d
        return
        ;;
    '--format')
        __khodump_add_completions -W 'text'$'\n''json'
        return
        ;;
    '--ranges')
        return
        ;;
    esac
}

_khodump_inspect() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--fdt-phys --page-size --debugfs-side --tmpdir --format --depth --only)
    __khodump_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--fdt-phys')
        return
        ;;
    '--page-size')
        return
        ;;
    '--debugfs-side')
        return
        ;;
    '--tmpdir')
        __khodump_add_completions -d
        return
        ;;
    '--format')
        __khodump_add_completions -W 'text'$'\n''json'$'\n''dot'
        return
        ;;
    '--depth')
        return
        ;;
    '--only')
        return
        ;;
    esac
}

_khodump_validate() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--fdt-phys --page-size --debugfs-side --tmpdir --format)
    __khodump_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--fdt-phys')
        return
        ;;
    '--page-size')
        return
        ;;
    '--debugfs-side')
        return
        ;;
    '--tmpdir')
        __khodump_add_completions -d
        return
        ;;
    '--format')
        __khodump_add_completions -W 'text'$'\n''json'
        return
        ;;
    esac
}

_khodump_fdt() {
    repeating_flags=()
    non_repeating_flags=(--raw --allow-trailing -h --help)
    repeating_options=()
    non_repeating_options=(--format --byte-order)
    __khodump_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--format')
        __khodump_add_completions -W 'text'$'\n''json'
        return
        ;;
    '--byte-order')
        return
        ;;
    esac
}

_khodump_scan() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--format)
    __khodump_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--format')
        __khodump_add_completions -W 'text'$'\n''json'
        return
        ;;
    esac
}

_khodump_sessions() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--fdt-phys --page-size --debugfs-side --tmpdir --format)
    __khodump_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--fdt-phys')
        return
        ;;
    '--page-size')
        return
        ;;
    '--debugfs-side')
        return
        ;;
    '--tmpdir')
        __khodump_add_completions -d
        return
        ;;
    '--format')
        __khodump_add_completions -W 'text'$'\n''json'
        return
        ;;
    esac
}

_khodump_vms() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--fdt-phys --page-size --debugfs-side --tmpdir --format)
    __khodump_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--fdt-phys')
        return
        ;;
    '--page-size')
        return
        ;;
    '--debugfs-side')
        return
        ;;
    '--tmpdir')
        __khodump_add_completions -d
        return
        ;;
    '--format')
        __khodump_add_completions -W 'text'$'\n''json'
        return
        ;;
    esac
}

_khodump_devices() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--fdt-phys --page-size --debugfs-side --tmpdir --format)
    __khodump_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--fdt-phys')
        return
        ;;
    '--page-size')
        return
        ;;
    '--debugfs-side')
        return
        ;;
    '--tmpdir')
        __khodump_add_completions -d
        return
        ;;
    '--format')
        __khodump_add_completions -W 'text'$'\n''json'
        return
        ;;
    esac
}

_khodump_memfd() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--fdt-phys --page-size --debugfs-side --tmpdir --session --token --out --format)
    __khodump_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--fdt-phys')
        return
        ;;
    '--page-size')
        return
        ;;
    '--debugfs-side')
        return
        ;;
    '--tmpdir')
        __khodump_add_completions -d
        return
        ;;
    '--session')
        return
        ;;
    '--token')
        return
        ;;
    '--out')
        return
        ;;
    '--format')
        __khodump_add_completions -W 'text'$'\n''json'
        return
        ;;
    esac
}

_khodump_pages() {
    repeating_flags=()
    non_repeating_flags=(--summary --map -h --help)
    repeating_options=()
    non_repeating_options=(--fdt-phys --page-size --debugfs-side --tmpdir --format --map-rows --map-columns --radix-depth)
    __khodump_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--fdt-phys')
        return
        ;;
    '--page-size')
        return
        ;;
    '--debugfs-side')
        return
        ;;
    '--tmpdir')
        __khodump_add_completions -d
        return
        ;;
    '--format')
        __khodump_add_completions -W 'text'$'\n''json'
        return
        ;;
    '--map-rows')
        return
        ;;
    '--map-columns')
        return
        ;;
    '--radix-depth')
        __khodump_add_completions -W 'plus-one'$'\n''original'
        return
        ;;
    esac
}

_khodump_pack() {
    repeating_flags=()
    non_repeating_flags=(--with-data --no-compress -h --help)
    repeating_options=()
    non_repeating_options=(--fdt-phys --page-size --debugfs-side --tmpdir --out --format)
    __khodump_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--fdt-phys')
        return
        ;;
    '--page-size')
        return
        ;;
    '--debugfs-side')
        return
        ;;
    '--tmpdir')
        __khodump_add_completions -d
        return
        ;;
    '--out')
        return
        ;;
    '--format')
        __khodump_add_completions -W 'text'$'\n''json'
        return
        ;;
    esac
}

_khodump_capture() {
    repeating_flags=()
    non_repeating_flags=(--with-data -h --help)
    repeating_options=()
    non_repeating_options=(--out --debugfs --side --mem --fdt-phys)
    __khodump_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--out')
        return
        ;;
    '--debugfs')
        return
        ;;
    '--side')
        return
        ;;
    '--mem')
        return
        ;;
    '--fdt-phys')
        return
        ;;
    esac
}

_khodump_diff() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--format)
    __khodump_offer_flags_options 2

    # Offer option value completions
    case "${prev}" in
    '--format')
        __khodump_add_completions -W 'text'$'\n''json'
        return
        ;;
    esac
}

_khodump_compat() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=()
    __khodump_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    versions|negotiate|matrix)
        # Offer subcommand argument completions
        "_khodump_compat_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'versions negotiate matrix' -- "${cur}"))
        ;;
    esac
}

_khodump_compat_versions() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--format --fdt-phys)
    __khodump_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--format')
        __khodump_add_completions -W 'text'$'\n''json'
        return
        ;;
    '--fdt-phys')
        return
        ;;
    esac
}

_khodump_compat_negotiate() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=(--to)
    non_repeating_options=(--from --policy --profile --format)
    __khodump_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--from')
        return
        ;;
    '--to')
        return
        ;;
    '--policy')
        return
        ;;
    '--profile')
        return
        ;;
    '--format')
        __khodump_add_completions -W 'text'$'\n''json'
        return
        ;;
    esac
}

_khodump_compat_matrix() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--format)
    __khodump_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--format')
        __khodump_add_completions -W 'md'$'\n''json'
        return
        ;;
    esac
}

_khodump_convert() {
    repeating_flags=()
    non_repeating_flags=(--no-compress -h --help)
    repeating_options=()
    non_repeating_options=(--fdt-phys --page-size --debugfs-side --tmpdir --to --out --format)
    __khodump_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--fdt-phys')
        return
        ;;
    '--page-size')
        return
        ;;
    '--debugfs-side')
        return
        ;;
    '--tmpdir')
        __khodump_add_completions -d
        return
        ;;
    '--to')
        return
        ;;
    '--out')
        return
        ;;
    '--format')
        __khodump_add_completions -W 'text'$'\n''json'
        return
        ;;
    esac
}

_khodump_xarray() {
    repeating_flags=()
    non_repeating_flags=(--no-verify -h --help)
    repeating_options=()
    non_repeating_options=(--at --base --layout --key --range --mark --format)
    __khodump_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--at')
        return
        ;;
    '--base')
        return
        ;;
    '--layout')
        return
        ;;
    '--key')
        return
        ;;
    '--range')
        return
        ;;
    '--mark')
        return
        ;;
    '--format')
        __khodump_add_completions -W 'text'$'\n''json'
        return
        ;;
    esac
}

_khodump_demo() {
    repeating_flags=()
    non_repeating_flags=(-h --help)
    repeating_options=()
    non_repeating_options=(--out --format)
    __khodump_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--out')
        return
        ;;
    '--format')
        __khodump_add_completions -W 'text'$'\n''json'
        return
        ;;
    esac
}

_khodump_help() {
    :
}

complete -o filenames -F _khodump khodump
