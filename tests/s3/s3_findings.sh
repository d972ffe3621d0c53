#!/usr/bin/env bash
# Asks the S3 test server (tests/s3/s3_server.sh) the questions that README.md answers, with real
# signed requests (curl --aws-sigv4), and prints one line per answer: what README.md says about this
# moto version comes from here. Run it again after changing the moto pins and update README.md.
#
#   bash tests/s3/s3_findings.sh      starts a server, asks, stops it; exit 1 if it cannot start
#
# Not a test: it does not judge the answers (s3_server_test.sh checks what the tests rely on).
set -u
here="$(cd "$(dirname "$0")" && pwd)"
server="$here/s3_server.sh"
exports=$(bash "$server" start) || exit 1
eval "$exports"
work=$(mktemp -d /tmp/dkdata-s3-findings.XXXXXX) || exit 1
trap 'bash "$server" stop >/dev/null 2>&1; rm -rf -- "$work"' EXIT
EMPTY=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855

# s3 METHOD PATH [BODY_FILE [curl args...]]: like s3_server_test.sh's: prints the status; body in
# $work/out, headers in $work/headers. $HASH, when set, is sent as x-amz-content-sha256 instead of
# the body's hash.
s3() {
  local method=$1 path=$2 body=${3:-} hash=$EMPTY
  shift 3 2>/dev/null || shift $#
  local args=(-s -o "$work/out" -D "$work/headers" -w '%{http_code}' --max-time 30
    --aws-sigv4 "aws:amz:$DKDATA_S3_REGION:s3" --user "${KEY:-$DKDATA_S3_ACCESS_KEY}:${SECRET:-$DKDATA_S3_SECRET_KEY}")
  if [[ $method == HEAD ]]; then args+=(-I); else args+=(-X "$method"); fi
  if [[ -n $body ]]; then
    hash=$(sha256sum <"$body" | cut -d' ' -f1)
    args+=(--data-binary "@$body")
  fi
  curl "${args[@]}" -H "x-amz-content-sha256: ${HASH:-$hash}" "$@" "$DKDATA_S3_ENDPOINT$path"
}
code() { grep -o '<Code>[^<]*</Code>' "$work/out" | sed 's/<[^>]*>//g'; }
etag() { tr -d '\r' <"$work/headers" | awk -F': ' 'tolower($1) == "etag" { print $2 }'; }
say() { printf '%-58s %s\n' "$1" "$2"; }
text() { printf '%s' "$2" >"$work/$1"; }
OCTET=(-H "Content-Type: application/octet-stream")

B=/dkdata-findings
s3 PUT "$B" >/dev/null
text v1 one
text v2 two
s3 PUT "$B/k" "$work/v1" "${OCTET[@]}" >/dev/null
e1=$(etag)

say "PUT If-None-Match: * on an existing key" "$(s3 PUT "$B/k" "$work/v2" "${OCTET[@]}" -H 'If-None-Match: *') $(code)"
say "PUT If-None-Match: * on a new key" "$(s3 PUT "$B/new" "$work/v2" "${OCTET[@]}" -H 'If-None-Match: *')"
say "PUT If-Match: <other etag>" "$(s3 PUT "$B/k" "$work/v2" "${OCTET[@]}" -H 'If-Match: "0123456789abcdef0123456789abcdef"') $(code)"
say "PUT If-Match: <current etag>" "$(s3 PUT "$B/k" "$work/v2" "${OCTET[@]}" -H "If-Match: $e1")"
say "PUT If-Match on a missing key" "$(s3 PUT "$B/missing" "$work/v2" "${OCTET[@]}" -H "If-Match: $e1") $(code)"
s3 HEAD "$B/k" >/dev/null
e2=$(etag)
say "GET If-None-Match: <current etag>" "$(s3 GET "$B/k" "" -H "If-None-Match: $e2")"
say "HEAD If-None-Match: <current etag>" "$(s3 HEAD "$B/k" "" -H "If-None-Match: $e2")"
say "GET If-Match: <other etag>" "$(s3 GET "$B/k" "" -H 'If-Match: "0123"') $(code)"

s3 PUT "$B/tagged" "$work/v1" "${OCTET[@]}" -H "x-amz-tagging: a=1&b=x%20y" >/dev/null
s3 GET "$B/tagged?tagging=" >/dev/null
say "x-amz-tagging on PUT, then GET ?tagging=" "$(grep -o '<TagSet>.*</TagSet>' "$work/out")"

for k in p/1 p/2 p/3 q/1; do s3 PUT "$B/$k" "$work/v1" "${OCTET[@]}" >/dev/null; done
s3 GET "$B?list-type=2&max-keys=2&prefix=p%2F" >/dev/null
token=$(sed -n 's/.*<NextContinuationToken>\([^<]*\)<.*/\1/p' "$work/out")
say "ListObjectsV2 max-keys=2: ETags, truncated, token" "$(grep -c '<ETag>' <(grep -o '<ETag>' "$work/out")) etags, $(grep -o '<IsTruncated>[^<]*' "$work/out" | cut -d'>' -f2), token=$token"
s3 GET "$B?continuation-token=$token&list-type=2&max-keys=2&prefix=p%2F" >/dev/null
say "  next page" "$(grep -o '<Key>[^<]*</Key>' "$work/out" | tr -d '\n'), truncated=$(grep -o '<IsTruncated>[^<]*' "$work/out" | cut -d'>' -f2)"
say "query not sorted (max-keys before list-type)" "$(s3 GET "$B?max-keys=2&list-type=2") $(code)"
say "query parameter without '=' (?tagging)" "$(s3 GET "$B/tagged?tagging") $(code)"

# Multipart: two parts (the first at S3's 5 MiB minimum), signed; then If-None-Match: * on complete.
head -c 5242880 /dev/zero >"$work/part1"
text part2 tail
mp() { # mp KEY [complete args]: a whole multipart upload; prints the statuses
  local key=$1 id e_1 e_2 s1 s2 s3_
  shift
  s1=$(s3 POST "$B/$key?uploads=")
  id=$(sed -n 's/.*<UploadId>\([^<]*\)<.*/\1/p' "$work/out")
  s2=$(s3 PUT "$B/$key?partNumber=1&uploadId=$id" "$work/part1" "${OCTET[@]}")
  e_1=$(etag)
  s3_=$(s3 PUT "$B/$key?partNumber=2&uploadId=$id" "$work/part2" "${OCTET[@]}")
  e_2=$(etag)
  printf '<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>%s</ETag></Part><Part><PartNumber>2</PartNumber><ETag>%s</ETag></Part></CompleteMultipartUpload>' "$e_1" "$e_2" >"$work/complete"
  echo "initiate $s1, parts $s2 $s3_, complete $(s3 POST "$B/$key?uploadId=$id" "$work/complete" -H "Content-Type: application/xml" "$@") $(code)"
}
say "multipart upload (signed)" "$(mp mp)"
s3 GET "$B/mp" >/dev/null
say "  object size" "$(stat -c %s "$work/out") (expected $((5242880 + 4)))"
say "multipart, If-None-Match: * on complete, existing key" "$(mp mp -H 'If-None-Match: *')"
say "multipart, If-None-Match: * on complete, new key" "$(mp mp-new -H 'If-None-Match: *')"

urlpath() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe="/~"))' "$1"; }
for key in 'a b' 'a+b' 'a=b' 'a&b' 'ünï/漢字' 'x/y//z' "(1)!*'~" 'dot/./x'; do
  text special "v:$key"
  put=$(s3 PUT "$B/$(urlpath "$key")" "$work/special" "${OCTET[@]}" --path-as-is)
  get=$(s3 GET "$B/$(urlpath "$key")" "" --path-as-is)
  say "key '$key' as /$(urlpath "$key")" "put $put, get $get, body $( [[ $(cat "$work/out") == "v:$key" ]] && echo same || echo DIFFERENT)"
done
text special dots
s3 PUT "$B/dots/./x" "$work/special" "${OCTET[@]}" >/dev/null
s3 GET "$B?list-type=2&prefix=dots" >/dev/null
say "'dots/./x' without --path-as-is is stored as" "$(grep -o '<Key>[^<]*</Key>' "$work/out")"

s3 PUT "$B/signed" "$work/v1" -v -H "Content-Type: text/plain" -H "x-amz-tagging: a=1" \
  -H "x-amz-security-token: t" -H "x-amz-meta-m: v" -H "If-None-Match: *" 2>"$work/verbose" >/dev/null
say "curl signs (-H content-type, tagging, token, meta, if-none-match)" "$(grep -o 'SignedHeaders=[^,]*' "$work/verbose")"
s3 PUT "$B/signed2" "$work/v1" -v 2>"$work/verbose" >/dev/null
say "curl signs (--data-binary, its own Content-Type)" "$(grep -o 'SignedHeaders=[^,]*' "$work/verbose")"
say "IAM user key with x-amz-security-token" "$(s3 GET "$B/k" "" -H 'x-amz-security-token: t') $(code)"
say "session key with its token" "$(KEY=$DKDATA_S3_SESSION_ACCESS_KEY SECRET=$DKDATA_S3_SESSION_SECRET_KEY s3 GET "$B/k" "" -H "x-amz-security-token: $DKDATA_S3_SESSION_TOKEN")"
say "session key with a wrong token" "$(KEY=$DKDATA_S3_SESSION_ACCESS_KEY SECRET=$DKDATA_S3_SESSION_SECRET_KEY s3 GET "$B/k" "" -H 'x-amz-security-token: wrong') $(code)"
say "session key without a token" "$(KEY=$DKDATA_S3_SESSION_ACCESS_KEY SECRET=$DKDATA_S3_SESSION_SECRET_KEY s3 GET "$B/k") $(code)"

text form "a=1&b=2"
s3 PUT "$B/form" "$work/form" -H "Content-Type: application/x-www-form-urlencoded" >/dev/null
s3 GET "$B/form" >/dev/null
say "PUT with a form Content-Type keeps the body" "$(cat "$work/out")"
say "x-amz-content-sha256 that is not the body's hash" "$(HASH=$EMPTY s3 PUT "$B/badhash" "$work/v1" "${OCTET[@]}")"
s3 GET "$B/badhash" >/dev/null
say "  stored body" "$(cat "$work/out")"
say "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$(HASH=UNSIGNED-PAYLOAD s3 PUT "$B/unsigned-payload" "$work/v1" "${OCTET[@]}")"
s3 GET "$B/unsigned-payload" >/dev/null
say "  stored body" "$(cat "$work/out")"
say "non-ASCII x-amz-meta value (UTF-8)" "$(s3 PUT "$B/meta" "$work/v1" "${OCTET[@]}" -H 'x-amz-meta-m: ü') $(code)"
say "signing region eu-west-1" "$(curl -s -o /dev/null -w '%{http_code}' --aws-sigv4 "aws:amz:eu-west-1:s3" --user "$DKDATA_S3_ACCESS_KEY:$DKDATA_S3_SECRET_KEY" -H "x-amz-content-sha256: $EMPTY" "$DKDATA_S3_ENDPOINT$B/k")"
say "query value not percent-encoded (prefix=p/)" "$(s3 GET "$B?list-type=2&prefix=p/")"
say "Connection header of an answer" "$(tr -d '\r' <"$work/headers" | awk -F': ' 'tolower($1) == "connection" { print $2 }')"
say "moto" "$DKDATA_S3_MOTO_VERSION"
