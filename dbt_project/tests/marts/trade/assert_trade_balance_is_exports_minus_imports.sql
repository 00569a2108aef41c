-- Accounting identities of marts.trade_balance_monthly: balance = exports - imports, in the month, YTD and
-- over the rolling 12 months.
select *
from {{ ref('trade_balance_monthly') }}
where balance_usd <> exports_usd - imports_usd
   or balance_ytd_usd <> exports_ytd_usd - imports_ytd_usd
   or balance_rolling_12m_usd <> exports_rolling_12m_usd - imports_rolling_12m_usd
