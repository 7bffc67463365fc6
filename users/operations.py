def business_date(request):
    raise NotImplementedError


def audit_log(request):
    raise NotImplementedError


def object_history(request, object_type, object_id):
    raise NotImplementedError
