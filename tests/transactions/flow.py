"""Steps the service-request tests share (the people, request types and valid data are fixtures
in conftest.py).

- `drafted(...)`, `submitted(...)`: a request through the services, with the ID copy attached
  when the form asks for it.
"""

from django.core.files.uploadedfile import SimpleUploadedFile

from transactions.services import document_attach, request_create, request_submit

PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def png(name="id.png"):
    return SimpleUploadedFile(name, PNG_BYTES, content_type="image/png")


def drafted(request_type, customer, maker, data, *, branch=None):
    return request_create(
        actor=maker,
        customer=customer,
        request_type=request_type,
        branch=branch or customer.home_branch,
        data=data,
    )


def submitted(request_type, customer, maker, data, *, branch=None):
    request = drafted(request_type, customer, maker, data, branch=branch)
    for doc in request.version.documents:
        if doc.get("required"):
            document_attach(actor=maker, request=request, doc_type=doc["code"], uploaded_file=png())
    return request_submit(actor=maker, request=request)
