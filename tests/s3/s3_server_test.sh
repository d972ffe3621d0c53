#!/usr/bin/env bash
# The private S3 server of tests/s3/s3_server.sh works on this machine and verifies signatures: it
# starts on a free port on 127.0.0.1; with requests signed by curl's --aws-sigv4 it creates a bucket,
# puts, gets, heads, lists (with a prefix) and deletes objects, including a key with spaces, '+',
# '=', '&', '/' and non-ASCII letters; a wrong secret gets 403 SignatureDoesNotMatch, an unsigned
# request 403, the session credentials work only with their token; and stop leaves no process and
# no folder behind. The s3 backend's tests build on it. Without python3 (with venv) or curl, and no
# moto cached, this skips with a message, except under CI=true, where it fails.
#
# How curl 7.88 (Debian 12) must be driven, see README.md: it adds no x-amz-content-sha256 (so it is
# sent here, and curl signs it), signs the query string as written (so parameters are sorted and
# each has an '='), and signs every header given with -H.
set -u
here="$(cd "$(dirname "$0")" && pwd)"
server="$here/s3_server.sh"
fail() {
  echo "FAIL: $*" >&2
  [[ -n ${DKDATA_S3_DATA:-} ]] && bash "$server" stop >/dev/null 2>&1
  [[ -n ${work:-} ]] && rm -rf -- "$work"
  exit 1
}

if ! why=$(bash "$server" check 2>&1); then
  if [[ ${CI:-} == true ]]; then
    fail "$why"
  fi
  echo "SKIP: $why"
  exit 0
fi

# Whether a process runs: exists and is not a zombie (the init process reaps a dead server late).
alive() {
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n $state && $state != Z ]]
}

unset DKDATA_S3_DATA
exports=$(bash "$server" start) || fail "the server did not start"
eval "$exports"
trap 'bash "$server" stop >/dev/null 2>&1; rm -rf -- "$work"' EXIT
work=$(mktemp -d /tmp/dkdata-s3-test.XXXXXX) || fail "mktemp"
[[ $DKDATA_S3_ENDPOINT =~ ^http://127\.0\.0\.1:[0-9]+$ ]] || fail "endpoint $DKDATA_S3_ENDPOINT is not on 127.0.0.1"
[[ $DKDATA_S3_REGION == us-east-1 ]] || fail "region $DKDATA_S3_REGION"
alive "$DKDATA_S3_PID" || fail "DKDATA_S3_PID=$DKDATA_S3_PID does not run"

# s3 METHOD PATH [BODY_FILE [curl args...]] (BODY_FILE "" for none): a request signed with
# DKDATA_S3_ACCESS_KEY/SECRET_KEY (or $KEY/$SECRET when set). Prints the status; the body is in $work/out, the headers in
# $work/headers. The body is sent as is (--data-binary), with its SHA-256 in x-amz-content-sha256.
s3() {
  local method=$1 path=$2 body=${3:-} hash
  shift 3 2>/dev/null || shift $#
  local args=(-s -o "$work/out" -D "$work/headers" -w '%{http_code}' --max-time 30
    --aws-sigv4 "aws:amz:$DKDATA_S3_REGION:s3" --user "${KEY:-$DKDATA_S3_ACCESS_KEY}:${SECRET:-$DKDATA_S3_SECRET_KEY}")
  if [[ $method == HEAD ]]; then
    args+=(-I)
  else
    args+=(-X "$method")
  fi
  if [[ -n $body ]]; then
    hash=$(sha256sum <"$body" | cut -d' ' -f1)
    args+=(--data-binary "@$body" -H "Content-Type: application/octet-stream")
  else
    hash=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 # of nothing
  fi
  curl "${args[@]}" -H "x-amz-content-sha256: $hash" "$@" "$DKDATA_S3_ENDPOINT$path"
}
expect() { # expect STATUS WHAT -- METHOD PATH [BODY_FILE] [curl args]
  local want=$1 what=$2 got
  shift 3
  got=$(s3 "$@")
  [[ $got == "$want" ]] || fail "$what: HTTP $got, expected $want: $(head -c 400 "$work/out" 2>/dev/null)"
}
# urlpath KEY: the key percent-encoded for a path: RFC 3986 unreserved characters and '/' as is.
urlpath() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe="/~"))' "$1"; }

bucket=dkdata-selftest
expect 200 "create bucket" -- PUT "/$bucket"
expect 200 "head bucket" -- HEAD "/$bucket"

head -c 70000 /dev/urandom >"$work/blob"
expect 200 "put object" -- PUT "/$bucket/dir/blob" "$work/blob"
expect 200 "get object" -- GET "/$bucket/dir/blob"
cmp -s "$work/out" "$work/blob" || fail "get object: the body differs from what was put"
expect 200 "head object" -- HEAD "/$bucket/dir/blob"
grep -qi '^content-length: 70000' "$work/headers" || fail "head object: no Content-Length 70000"
grep -qi '^etag: "' "$work/headers" || fail "head object: no ETag"

# A key with the characters that signing and path encoding get wrong most often.
key='dir/a b+c=d&e/ünï 漢字~(1).txt'
printf 'special' >"$work/special"
expect 200 "put a key with special characters" -- PUT "/$bucket/$(urlpath "$key")" "$work/special"
expect 200 "get a key with special characters" -- GET "/$bucket/$(urlpath "$key")"
[[ $(cat "$work/out") == special ]] || fail "get a key with special characters: wrong body"

printf '1' >"$work/one"
for k in list/a/1 list/a/2 list/b/1 list/c; do
  expect 200 "put $k" -- PUT "/$bucket/$k" "$work/one"
done
expect 200 "list with prefix" -- GET "/$bucket?list-type=2&prefix=list%2Fa%2F"
keys=$(grep -o '<Key>[^<]*</Key>' "$work/out" | tr '\n' ' ')
[[ $keys == '<Key>list/a/1</Key> <Key>list/a/2</Key> ' ]] || fail "list with prefix list/a/ gave: $keys"
expect 200 "list all" -- GET "/$bucket?list-type=2"
grep -qF "<Key>${key//&/&amp;}</Key>" "$work/out" || fail "list: the special key is not listed as itself"

expect 204 "delete object" -- DELETE "/$bucket/dir/blob"
expect 404 "get a deleted object" -- GET "/$bucket/dir/blob"
grep -q '<Code>NoSuchKey</Code>' "$work/out" || fail "get a deleted object: no NoSuchKey"

# Authentication.
KEY=$DKDATA_S3_ACCESS_KEY SECRET=${DKDATA_S3_SECRET_KEY}x expect 403 "a wrong secret" -- GET "/$bucket/list/c"
grep -q '<Code>SignatureDoesNotMatch</Code>' "$work/out" || fail "a wrong secret: not SignatureDoesNotMatch: $(cat "$work/out")"
KEY=AKIAIOSFODNN7EXAMPLE expect 403 "an unknown access key" -- GET "/$bucket/list/c"
grep -q '<Code>InvalidAccessKeyId</Code>' "$work/out" || fail "an unknown key: not InvalidAccessKeyId"
got=$(curl -s -o "$work/out" -w '%{http_code}' --max-time 30 "$DKDATA_S3_ENDPOINT/$bucket/list/c")
[[ $got == 403 ]] || fail "an unsigned GET: HTTP $got, expected 403"
got=$(curl -s -o "$work/out" -w '%{http_code}' --max-time 30 -X PUT --data-binary x "$DKDATA_S3_ENDPOINT/$bucket/unsigned")
[[ $got == 403 ]] || fail "an unsigned PUT: HTTP $got, expected 403"
expect 404 "the unsigned PUT wrote nothing" -- GET "/$bucket/unsigned"
KEY=$DKDATA_S3_SESSION_ACCESS_KEY SECRET=$DKDATA_S3_SESSION_SECRET_KEY \
  expect 200 "session credentials with their token" -- GET "/$bucket/list/c" "" -H "x-amz-security-token: $DKDATA_S3_SESSION_TOKEN"
KEY=$DKDATA_S3_SESSION_ACCESS_KEY SECRET=$DKDATA_S3_SESSION_SECRET_KEY \
  expect 403 "session credentials without their token" -- GET "/$bucket/list/c"

pid=$DKDATA_S3_PID
folder=$DKDATA_S3_DATA
trap 'rm -rf -- "$work"' EXIT
bash "$server" stop || fail "stop"
unset DKDATA_S3_DATA
alive "$pid" && fail "the server $pid still runs after stop"
[[ -e $folder ]] && fail "stop left $folder behind"
echo "ok: moto $DKDATA_S3_MOTO_VERSION on 127.0.0.1: signed bucket and object requests, listing, special keys; wrong secret, unknown key and unsigned requests refused; stop"
exit 0
