"""Snowplow and CloudEvents payloads, copied from their published examples.

Sources:
- Snowplow: the expected JSON of the Python analytics SDK's event transformer test
  (snowplow/snowplow-python-analytics-sdk, tests/test_event_transformer.py; the SDKs' transformer is
  documented at https://docs.snowplow.io/docs/api-reference/analytics-sdk/), trimmed of null and
  browser columns; `contexts_com_acme_account_1` is added: the account lives in a context of your own.
- CloudEvents: the JSON format's example (https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/
  formats/json-format.md#4-examples) and the Kafka binding's binary-mode example
  (https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/bindings/kafka-protocol-binding.md#325-example),
  with an `account_id` and a `user` in `data`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["CE_BINARY_HEADERS", "CE_BINARY_VALUE", "CE_STRUCTURED", "SNOWPLOW"]

SNOWPLOW: dict[str, Any] = {
    "geo_location": "37.443604,-122.4124",
    "app_id": "angry-birds",
    "platform": "web",
    "etl_tstamp": "2017-01-26T00:01:25.292Z",
    "collector_tstamp": "2013-11-26T00:02:05Z",
    "dvce_created_tstamp": "2013-11-26T00:03:57.885Z",
    "event": "page_view",
    "event_id": "c6ef3124-b53a-4b13-a233-0088f79dcbcb",
    "txn_id": 41828,
    "name_tracker": "cloudfront-1",
    "v_tracker": "js-2.1.0",
    "v_collector": "clj-tomcat-0.1.0",
    "v_etl": "serde-0.5.2",
    "user_id": "jon.doe@email.com",
    "user_ipaddress": "92.231.54.234",
    "user_fingerprint": "2161814971",
    "domain_userid": "bc2e92ec6c204a14",
    "domain_sessionidx": 3,
    "network_userid": "ecdff4d0-9175-40ac-a8bb-325c49733607",
    "page_url": "http://www.snowplowanalytics.com",
    "page_title": "On Analytics",
    "contexts_org_schema_web_page_1": [{
        "genre": "blog", "inLanguage": "en-US", "datePublished": "2014-11-06T00:00:00Z", "author": "Fred Blundun",
        "breadcrumb": ["blog", "releases"], "keywords": ["snowplow", "javascript", "tracker", "event"]}],
    "unstruct_event_com_snowplowanalytics_snowplow_link_click_1": {
        "targetUrl": "http://www.example.com", "elementClasses": ["foreground"], "elementId": "exampleLink"},
    "br_features_pdf": True,
    "br_features_flash": False,
    "contexts_com_snowplowanalytics_snowplow_ua_parser_context_1": [{
        "useragentFamily": "IE", "useragentMajor": "7", "useragentMinor": "0", "useragentPatch": None,
        "useragentVersion": "IE 7.0", "osFamily": "Windows XP", "deviceFamily": "Other"}],
    "domain_sessionid": "2b15e5c8-d3b1-11e4-b9d6-1681e6b88ec1",
    "derived_tstamp": "2013-11-26T00:03:57.886Z",
    "event_vendor": "com.snowplowanalytics.snowplow",
    "event_name": "link_click",
    "event_format": "jsonschema",
    "event_version": "1-0-0",
    "event_fingerprint": "e3dbfa9cca0412c3d4052863cefb547f",
    "true_tstamp": "2013-11-26T00:03:57.886Z",
    "contexts_com_acme_account_1": [{"id": "acc-00007", "plan": "growth"}],
}

CE_STRUCTURED: dict[str, Any] = {
    "specversion": "1.0",
    "type": "com.example.someevent",
    "source": "/mycontext",
    "subject": None,
    "id": "C234-1234-1234",
    "time": "2018-04-05T17:31:00Z",
    "comexampleextension1": "value",
    "comexampleothervalue": 5,
    "datacontenttype": "application/json",
    "data": {"appinfoA": "abc", "appinfoB": 123, "appinfoC": True, "account_id": "acc-00009", "user": "u-17"},
}

#: the binding's example headers; its data is JSON here (the spec's is Avro)
CE_BINARY_HEADERS: list[tuple[str, bytes]] = [
    ("ce_specversion", b"1.0"),
    ("ce_type", b"com.example.someevent"),
    ("ce_source", b"/mycontext/subcontext"),
    ("ce_id", b"1234-1234-1234"),
    ("ce_time", b"2018-04-05T03:56:24Z"),
    ("content-type", b"application/json"),
]
CE_BINARY_VALUE = b'{"account_id": "acc-00009", "user": "u-18", "appinfoA": "abc"}'
