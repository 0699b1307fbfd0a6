"""How dirty the synthetic store is: one rate per kind of dirt a real loader delivers.

Staging has to clean this dirt, and the tests measure the generated store against these numbers,
so the defaults are documented here and nowhere else. Each is a per-row probability unless said
otherwise:

=============================  ======  ==========================================================
rate                           value   what
=============================  ======  ==========================================================
email_case_or_padding          0.08    valid emails in customers, orders, events, consents written
                                       with mixed case and/or padding ('  Jane.Doe@Example.COM ')
invalid_email                  0.01    emails in customers and orders replaced by an unusable
                                       value ('jane.doe@', 'jane.doe', 'n/a', 'none')
junk_phone                     0.01    phones in customers and orders replaced by junk ('123',
                                       'n/a', '0000', 'none', 'x')
duplicate_rows                 0.01    extra exact copies of rows of customers, orders and events
test_address_customers         0.002   customers using the shared 'test@example.com' (at least
                                       `test_address_min_customers` = 8 of them)
duplicate_accounts             0.005   registered persons with a second customer_id, same email
guest_checkout_by_customer     0.03    a registered customer's orders placed as guest (no
                                       customer_id, same email)
null_country                   0.02    customers with country null
null_timezone                  0.05    customers with timezone null (includes null country)
null_first_name                0.02    customers with first_name null
null_last_name                 0.04    customers with last_name null
cancelled_orders               0.03    orders with status 'cancelled'
refunded_orders                0.02    orders with status 'refunded'
=============================  ======  ==========================================================
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DirtyRates:
    """How often each kind of dirt appears; see the module docstring for what each one means.

    A frozen value so a caller can build a cleaner or dirtier store with `dataclasses.replace`
    while the documented defaults stay fixed (tests measure the output against them).
    """

    email_case_or_padding: float = 0.08
    invalid_email: float = 0.01
    junk_phone: float = 0.01
    duplicate_rows: float = 0.01
    test_address_customers: float = 0.002
    test_address_min_customers: int = 8
    duplicate_accounts: float = 0.005
    guest_checkout_by_customer: float = 0.03
    null_country: float = 0.02
    null_timezone: float = 0.05
    null_first_name: float = 0.02
    null_last_name: float = 0.04
    cancelled_orders: float = 0.03
    refunded_orders: float = 0.02


DIRTY_RATES = DirtyRates()
