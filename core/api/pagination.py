"""The paging convention for every list endpoint: `?page=N&page_size=M`
(at most 200), answered as `{count, next, previous, results}`."""

from rest_framework.pagination import PageNumberPagination


class StandardPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
